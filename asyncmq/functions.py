"""Plain module-level functions as tasks: what a producer may name, and what a worker may import.

A producer names a plain function by ``"<module>.<function>"``, the same form as a ``@task`` id.
A worker runs a registered ``@task`` as always; for any other id it imports the module only
when an allowlist lets it (``--app`` modules, ``ASYNCMQ_IMPORTS``, ``Queue(imports=...)``), so
that whoever can write to the store cannot make a worker import or call arbitrary code.
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Callable, Iterable
from typing import Any

from asyncmq.errors import TaskNotAllowedError, UnknownTaskError
from asyncmq.tasks import Task, find_task

IMPORTS_ENV = "ASYNCMQ_IMPORTS"

_allowed: set[str] = set()
# Plain functions resolved once, by id: the import and the checks happen for a job's first run.
_resolved: dict[str, Task[Any, Any]] = {}


def allow_imports(*modules: str) -> None:
    """Let every worker of this process import these modules and their submodules to run the
    plain functions jobs name (the ``asyncmq worker --app`` modules are added this way)."""
    _allowed.update(m.strip() for m in modules if m.strip())


def allowed_modules(extra: Iterable[str] = ()) -> frozenset[str]:
    """The modules a worker may import: :func:`allow_imports`, ``ASYNCMQ_IMPORTS`` (comma or
    space separated) and ``extra`` (a queue's ``imports=``)."""
    from_env = os.environ.get(IMPORTS_ENV, "").replace(",", " ").split()
    return frozenset((*_allowed, *from_env, *extra))


def function_id(fn: Callable[..., Any]) -> str:
    """The id under which a worker finds ``fn``: ``"<module>.<function>"``.

    Raises ``TypeError`` saying why and what to do instead for what a worker could never find
    again by name: lambdas, nested functions, methods, callable objects, builtins and functions
    defined in ``__main__``.
    """
    if isinstance(fn, Task):
        return fn.id
    if inspect.ismethod(fn):
        raise TypeError(
            f"{fn.__qualname__} is a bound method: a worker cannot rebuild its object; "
            "enqueue a module-level function that takes the object's id instead"
        )
    if not inspect.isfunction(fn):
        raise TypeError(
            f"{fn!r} is not a plain Python function (a class, callable object, partial or "
            "builtin): enqueue a module-level function defined in your code instead"
        )
    name, module = fn.__qualname__, fn.__module__
    if fn.__name__ == "<lambda>":
        raise TypeError(
            "a lambda has no name a worker can import: define a module-level function instead"
        )
    if "<locals>" in name:
        raise TypeError(
            f"{name} is defined inside a function, so a worker cannot import it: "
            "move it to module level"
        )
    if "." in name:
        raise TypeError(
            f"{name} is a method: a worker imports functions, not methods; "
            "enqueue a module-level function instead"
        )
    if module == "__main__":
        raise TypeError(
            f"{name} is defined in __main__ (the script being run), which a worker process "
            "cannot import: move it to a module that both the producer and the worker import"
        )
    return f"{module}.{name}"


def resolve_task(task_id: str, imports: frozenset[str]) -> Task[Any, Any]:
    """The task a job names: a registered ``@task``, else a plain function from an allowed
    module. Raises :class:`UnknownTaskError` (or its :class:`TaskNotAllowedError`) naming the
    id; a module that is not allowed is neither imported nor looked at."""
    registered = find_task(task_id)
    if registered is not None:
        return registered
    module_name, _, name = task_id.rpartition(".")
    found = _resolved.get(task_id)
    if found is not None:
        if not _is_allowed(module_name, imports):
            raise _not_allowed(task_id, module_name)
        return found
    if not module_name or not name:
        raise UnknownTaskError(
            f"task {task_id!r} is not registered in this worker and is not a "
            "'<module>.<function>' name: import the module that defines it with @task"
        )
    if not _is_allowed(module_name, imports):
        raise _not_allowed(task_id, module_name)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UnknownTaskError(f"task {task_id!r}: cannot import {module_name!r}: {exc}") from None
    target = getattr(module, name, None)
    if isinstance(target, Task):
        return target
    if not (
        inspect.isfunction(target)
        and target.__module__ == module_name
        and target.__qualname__ == name
    ):
        raise UnknownTaskError(
            f"task {task_id!r}: {module_name} has no module-level function {name!r} defined in it"
        )
    resolved: Task[Any, Any] = Task(target, queue="default", name=task_id)
    _resolved[task_id] = resolved
    return resolved


def _is_allowed(module: str, imports: frozenset[str]) -> bool:
    return any(module == allowed or module.startswith(allowed + ".") for allowed in imports)


def _not_allowed(task_id: str, module: str) -> TaskNotAllowedError:
    return TaskNotAllowedError(
        f"task {task_id!r} is not a registered @task and this worker may not import "
        f"{module!r}: allow it with {IMPORTS_ENV}, Queue(imports=[...]) or asyncmq worker --app"
    )

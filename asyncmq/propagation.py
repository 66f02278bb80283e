"""Context that follows a job: declared context variables and a small dict, captured when the
job is added and restored around every attempt, plus the OpenTelemetry trace context when
OpenTelemetry is installed.

Values must be JSON-safe (as job arguments are) and all of it fits in
:data:`MAX_CONTEXT_BYTES`; anything else is refused when the job is added, naming the variable.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any

from asyncmq.errors import SerializationError
from asyncmq.serializers import check_value, dumps

MAX_CONTEXT_BYTES = 8192
"""The encoded size one job's context may take: it is stored with every job."""

# The name the dict-shaped context travels under among the declared variables.
_DICT_NAME = "asyncmq.context"
_EMPTY: Mapping[str, Any] = MappingProxyType({})
_values: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    _DICT_NAME, default=_EMPTY
)
_declared: dict[str, contextvars.ContextVar[Any]] = {}
_MISSING = object()


def propagate(*variables: contextvars.ContextVar[Any]) -> None:
    """Carry these context variables into every job added from now on, by their ``name``.

    Declare them in a module both the producer and the worker import: the worker sets a
    variable it knows by that name before each attempt and puts it back afterwards.
    """
    for var in variables:
        known = _declared.get(var.name)
        if known is not None and known is not var:
            raise ValueError(f"another context variable named {var.name!r} is declared")
        if var.name == _DICT_NAME:
            raise ValueError(f"{_DICT_NAME!r} is asyncmq's own context variable name")
        _declared[var.name] = var


class Context:
    """A small dict that follows jobs: ``context.set("user_id", 42)`` before adding a job,
    ``context.get("user_id")`` inside it. Each task and thread sees its own copy, as with
    any context variable."""

    def set(self, key: str, value: Any) -> None:
        check_value(value, f"context[{key!r}]")
        _values.set(MappingProxyType({**_values.get(), key: value}))

    def get(self, key: str, default: Any = None) -> Any:
        return _values.get().get(key, default)

    def delete(self, key: str) -> None:
        values = dict(_values.get())
        values.pop(key, None)
        _values.set(MappingProxyType(values))

    def clear(self) -> None:
        _values.set(_EMPTY)

    def to_dict(self) -> dict[str, Any]:
        return dict(_values.get())

    def __repr__(self) -> str:
        return f"<asyncmq context {dict(_values.get())!r}>"


context = Context()


def capture() -> dict[str, Any]:
    """What a job added now carries: ``{"vars": {name: value}, "trace": {...}}``, each part
    only when there is something to carry (so usually ``{}``)."""
    captured: dict[str, Any] = {}
    variables: dict[str, Any] = {}
    values = _values.get()
    if values:
        variables[_DICT_NAME] = dict(values)
    for name, var in _declared.items():
        value = var.get(_MISSING)
        if value is not _MISSING:
            check_value(value, f"context variable {name!r}")
            variables[name] = value
    if variables:
        captured["vars"] = variables
    carrier = _trace_carrier()
    if carrier:
        captured["trace"] = carrier
    if captured and len(dumps(captured)) > MAX_CONTEXT_BYTES:
        largest = max(variables, key=lambda n: len(dumps(variables[n])))
        raise SerializationError(
            f"the job's context is over {MAX_CONTEXT_BYTES} bytes encoded "
            f"(the largest part is context variable {largest!r}): carry ids, not data"
        )
    return captured


def is_clean(captured: Mapping[str, Any]) -> bool:
    """True when an attempt carrying ``captured`` needs no :func:`restored`: it carries
    nothing, no variable is declared and the dict is empty (the worker's hot path)."""
    return not captured and not _declared and _values.get() is _EMPTY


@contextmanager
def restored(captured: Mapping[str, Any], *, job_id: str, task_id: str) -> Iterator[None]:
    """Set what ``captured`` carries for the duration of one attempt, then put every variable
    back, undoing what the attempt set. A variable this process has not declared is ignored."""
    variables: Mapping[str, Any] = captured.get("vars") or _EMPTY
    tokens: list[tuple[contextvars.ContextVar[Any], contextvars.Token[Any]]] = [
        (_values, _values.set(MappingProxyType(dict(variables.get(_DICT_NAME) or {}))))
    ]
    # Every declared variable gets a token, the ones the job did not carry too: resetting them
    # afterwards also undoes what the attempt itself set, which would otherwise stay behind
    # in the worker task that runs the next job.
    for name, var in _declared.items():
        value = variables.get(name, _MISSING)
        if value is _MISSING:
            value = var.get(_MISSING)
        if value is not _MISSING:
            tokens.append((var, var.set(value)))
    try:
        carrier = captured.get("trace")
        if carrier:
            with _linked_span(carrier, job_id=job_id, task_id=task_id):
                yield
        else:
            yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def _trace_carrier() -> dict[str, str]:
    propagation = _opentelemetry()
    if propagation is None:
        return {}
    carrier: dict[str, str] = {}
    propagation.inject(carrier)
    return carrier


@contextmanager
def _linked_span(carrier: Mapping[str, str], *, job_id: str, task_id: str) -> Iterator[None]:
    """A span for the attempt, linked to the span that added the job (a link rather than a
    parent: the attempt may run long after, and many times)."""
    propagation = _opentelemetry()
    if propagation is None:
        yield
        return
    from opentelemetry import trace

    origin = trace.get_current_span(propagation.extract(carrier)).get_span_context()
    links = [trace.Link(origin)] if origin.is_valid else []
    tracer = trace.get_tracer("asyncmq")
    with tracer.start_as_current_span(
        f"asyncmq run {task_id}",
        kind=trace.SpanKind.CONSUMER,
        links=links,
        attributes={"asyncmq.job_id": job_id, "asyncmq.task_id": task_id},
    ):
        yield


_otel: Any = None
_otel_checked = False


def _opentelemetry() -> Any:
    """``opentelemetry.propagate`` if it is installed, else None (looked up once)."""
    global _otel, _otel_checked
    if not _otel_checked:
        _otel_checked = True
        try:
            from opentelemetry import propagate as otel_propagate
        except ImportError:
            return None
        _otel = otel_propagate
    return _otel

"""Backends and ``from_url``. Driver modules are imported only when their URL is used."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from asyncmq.errors import BackendUnavailableError, InvalidURLError

if TYPE_CHECKING:
    from asyncmq.backends.base import BaseBackend

__all__ = ["from_url"]

# scheme -> (module, class, pip extra)
_SCHEMES: dict[str, tuple[str, str, str | None]] = {
    "memory": ("asyncmq.backends.inmemory", "InMemoryBackend", None),
    "sqlite": ("asyncmq.backends.sqlite", "SQLiteBackend", None),
    "sync": ("asyncmq.backends.inline", "InlineBackend", None),
    "redis": ("asyncmq.backends.redis", "RedisBackend", "redis"),
    "rediss": ("asyncmq.backends.redis", "RedisBackend", "redis"),
    "redis+cluster": ("asyncmq.backends.redis", "RedisBackend", "redis"),
    "postgres": ("asyncmq.backends.postgres", "PostgresBackend", "postgres"),
    "postgresql": ("asyncmq.backends.postgres", "PostgresBackend", "postgres"),
    "mongodb": ("asyncmq.backends.mongodb", "MongoDBBackend", "mongodb"),
    "mongodb+srv": ("asyncmq.backends.mongodb", "MongoDBBackend", "mongodb"),
}


def from_url(url: str) -> BaseBackend:
    """Build a backend from a URL.

    ``memory://``, ``sqlite:///relative.db`` or ``sqlite:////absolute.db``, ``redis://``,
    ``rediss://``, ``postgresql://``, ``mongodb://``, and ``sync://`` (``?raise=true``), which
    runs each job as it is added. Each backend class also has a
    ``from_url`` class method with the same meaning for its own schemes.
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme not in _SCHEMES:
        known = ", ".join(sorted(_SCHEMES))
        raise InvalidURLError(f"unknown backend URL scheme {scheme!r} in {url!r}; known: {known}")
    module_name, class_name, extra = _SCHEMES[scheme]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        hint = f"; install it with: pip install 'asyncmq[{extra}]'" if extra else ""
        raise BackendUnavailableError(
            f"the {scheme} backend is not available ({exc}){hint}"
        ) from exc
    backend_cls = getattr(module, class_name)
    if scheme == "memory":
        backend: BaseBackend = backend_cls()
    else:
        backend = backend_cls.from_url(url)
    return backend

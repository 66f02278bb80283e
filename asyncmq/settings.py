"""Settings read from the environment, with the defaults a fresh machine needs."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from asyncmq.backends.base import BaseBackend

DEFAULT_BACKEND_URL = "sqlite:///asyncmq.db"


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return default if raw in (None, "") else float(raw)


@dataclass
class Settings:
    """``ASYNCMQ_BACKEND_URL`` picks the default backend (an SQLite file ``asyncmq.db`` in the
    working directory when unset); ``ASYNCMQ_SCAN_INTERVAL``, ``ASYNCMQ_LEASE`` and
    ``ASYNCMQ_MAX_STALLS`` tune every queue that does not set them itself."""

    backend_url: str = field(
        default_factory=lambda: os.environ.get("ASYNCMQ_BACKEND_URL") or DEFAULT_BACKEND_URL
    )
    scan_interval: float = field(default_factory=lambda: _float("ASYNCMQ_SCAN_INTERVAL", 1.0))
    lease: float = field(default_factory=lambda: _float("ASYNCMQ_LEASE", 10.0))
    max_stalls: int = field(default_factory=lambda: int(_float("ASYNCMQ_MAX_STALLS", 1)))
    _backend: BaseBackend | None = field(default=None, repr=False)

    @property
    def backend(self) -> BaseBackend:
        """The shared default backend, built from ``backend_url`` on first use."""
        if self._backend is None:
            from asyncmq.backends import from_url

            self._backend = from_url(self.backend_url)
        return self._backend

    @backend.setter
    def backend(self, value: BaseBackend) -> None:
        self._backend = value


settings = Settings()

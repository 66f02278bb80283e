"""asyncmq: an async-first job queue with one API over every backend."""

from __future__ import annotations

__version__ = "0.1.0.dev0"

"""The embedded SQLite backend, the default: one file shared by the processes of a machine."""

from asyncmq.backends.sqlite.backend import SQLiteBackend

__all__ = ["SQLiteBackend"]

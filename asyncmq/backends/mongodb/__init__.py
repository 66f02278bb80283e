"""The MongoDB backend (``pip install 'asyncmq[mongodb]'``), on pymongo's async client."""

from __future__ import annotations

from asyncmq.backends.mongodb.backend import MongoDBBackend

__all__ = ["MongoDBBackend"]

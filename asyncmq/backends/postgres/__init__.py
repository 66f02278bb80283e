"""The PostgreSQL backend (asyncpg): ``PostgresBackend("postgresql://...")``."""

from asyncmq.backends.postgres.backend import PostgresBackend

__all__ = ["PostgresBackend"]

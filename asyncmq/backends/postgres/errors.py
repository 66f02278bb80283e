"""Which driver errors mean "try again on a fresh connection" rather than a bug."""

from __future__ import annotations

import asyncpg

# A dropped or refused connection (server restart, pg_terminate_backend, network) and an
# aborted transaction (deadlock, serialization): none of them committed anything.
TRANSIENT: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.TransactionRollbackError,
    asyncpg.exceptions.InterfaceError,
)

"""Which driver errors mean "try again on a fresh connection" rather than a bug."""

from __future__ import annotations

import asyncpg

# A dropped or refused connection (server restart, pg_terminate_backend, network) and an
# aborted transaction (deadlock, serialization). Retrying is safe: an aborted statement
# committed nothing, and one whose answer was lost after its commit is found settled (a
# settle then reports False) or idempotent (enqueue by id); a claim whose answer was lost
# leaves jobs active until requeue_expired hands them back.
TRANSIENT: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.TransactionRollbackError,
    asyncpg.exceptions.InterfaceError,
    # asyncpg raises this ("cannot switch to state 11; another operation (2) is in progress")
    # when a query is sent on an idle connection the server has just terminated.
    asyncpg.exceptions.InternalClientError,
)

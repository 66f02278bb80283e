"""The exceptions asyncmq raises, all under :class:`AsyncMQError`."""

from __future__ import annotations


class AsyncMQError(Exception):
    """Base class of every error asyncmq raises on purpose."""


class SerializationError(AsyncMQError, TypeError):
    """A job argument or result cannot be encoded by the payload codec."""


class UnknownTaskError(AsyncMQError, LookupError):
    """A job names a task id that no ``@task`` registered in this process."""


class JobNotFoundError(AsyncMQError, LookupError):
    """No job with this id exists in the queue."""


class JobFailedError(AsyncMQError):
    """The awaited job ended in a state other than ``completed``."""

    def __init__(self, job_id: str, state: str, message: str) -> None:
        super().__init__(f"job {job_id} ended {state}: {message}")
        self.job_id = job_id
        self.state = state


class BackendUnavailableError(AsyncMQError):
    """A backend's driver is not installed or its server cannot be reached."""


class InvalidURLError(AsyncMQError, ValueError):
    """A backend URL has a scheme asyncmq does not know."""


class TaskNotAllowedError(UnknownTaskError):
    """A job names a plain function in a module this worker is not allowed to import."""

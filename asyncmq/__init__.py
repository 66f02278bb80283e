"""asyncmq: an async-first job queue with one API over every backend."""

from __future__ import annotations

from asyncmq.backends import from_url
from asyncmq.backends.base import BaseBackend
from asyncmq.backoff import Backoff
from asyncmq.errors import (
    AsyncMQError,
    BackendUnavailableError,
    JobFailedError,
    JobNotFoundError,
    SerializationError,
    UnknownTaskError,
)
from asyncmq.flow import FlowProducer
from asyncmq.jobs import Job, JobError, JobState
from asyncmq.queues import Queue
from asyncmq.scheduler import KeepJobs
from asyncmq.tasks import current_job, report_progress, task

__version__ = "0.1.0.dev0"

__all__ = [
    "AsyncMQError",
    "BackendUnavailableError",
    "Backoff",
    "BaseBackend",
    "FlowProducer",
    "Job",
    "JobError",
    "JobFailedError",
    "JobNotFoundError",
    "JobState",
    "KeepJobs",
    "Queue",
    "SerializationError",
    "UnknownTaskError",
    "__version__",
    "current_job",
    "from_url",
    "report_progress",
    "task",
]

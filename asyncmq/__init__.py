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
    TaskNotAllowedError,
    UnknownTaskError,
)
from asyncmq.flow import FlowProducer
from asyncmq.functions import allow_imports
from asyncmq.jobs import Job, JobError, JobState
from asyncmq.propagation import context, propagate
from asyncmq.queues import Queue, enqueue
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
    "TaskNotAllowedError",
    "UnknownTaskError",
    "__version__",
    "allow_imports",
    "context",
    "current_job",
    "enqueue",
    "from_url",
    "propagate",
    "report_progress",
    "task",
]

"""Inspection and admin commands: queues, stats, jobs, job, retry, cancel, pause, clean..."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from asyncmq.backends import from_url
from asyncmq.backends.base import BaseBackend
from asyncmq.jobs import FINISHED_STATES, Job, JobState
from asyncmq.queues import Queue
from asyncmq.settings import settings

Action = Callable[[BaseBackend, argparse.Namespace], Awaitable[Any]]


def add_commands(commands: Any) -> None:
    def command(name: str, action: Action, help: str, *, queue: bool = True) -> Any:
        cmd = commands.add_parser(name, help=help, description=help)
        if queue:
            cmd.add_argument("queue")
        cmd.add_argument("--json", action="store_true", help="print JSON")
        cmd.set_defaults(handler=lambda args: _run(action, args))
        return cmd

    command("queues", _queues, "list queues with their job counts", queue=False)
    command("stats", _stats, "job counts per state of a queue")
    jobs = command("jobs", _jobs, "list jobs of a queue in one state")
    jobs.add_argument("--state", default="waiting", choices=[s.value for s in JobState])
    jobs.add_argument("--limit", type=int, default=20)
    jobs.add_argument("--offset", type=int, default=0)
    command("job", _job, "show one job with its error and traceback").add_argument("job_id")
    command("retry", _retry, "run a failed, expired or cancelled job again").add_argument("job_id")
    command("cancel", _cancel, "cancel a job that has not finished").add_argument("job_id")
    command("remove", _remove, "delete a job").add_argument("job_id")
    command("pause", _pause, "stop workers from starting jobs of a queue")
    command("resume", _resume, "let workers start jobs of a queue again")
    clean = command("clean", _clean, "delete finished jobs")
    clean.add_argument("--state", default="completed", choices=[s.value for s in FINISHED_STATES])
    clean.add_argument("--older-than", type=float, default=0.0, help="seconds since finishing")
    command("drain", _drain, "delete every job that has not started")
    command("workers", _workers, "live workers of a queue (heartbeat within 30 s)")
    command("repeatables", _repeatables, "repeatable job definitions of a queue")
    add = command("add", _add, "enqueue a job")
    add.add_argument("task_id")
    add.add_argument("--args", default="[]", help="JSON list of positional arguments")
    add.add_argument("--kwargs", default="{}", help="JSON object of keyword arguments")
    add.add_argument("--delay", type=float, default=None)
    add.add_argument("--priority", type=int, default=None)
    db = commands.add_parser("db", help="storage schema commands")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    migrate = db_commands.add_parser("migrate", help="create or upgrade tables and indexes")
    migrate.set_defaults(handler=lambda args: _run(_migrate, args), json=False)


def _run(action: Action, args: argparse.Namespace) -> int:
    async def main() -> Any:
        backend = from_url(args.backend) if args.backend else settings.backend
        try:
            return await action(backend, args)
        finally:
            await backend.aclose()

    result = anyio.run(main)
    if result is None:
        return 0
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        print(_text(result))
    return 0


def _text(value: Any) -> str:
    if isinstance(value, list):
        separator = "\n\n" if any(isinstance(v, dict) for v in value) else "\n"
        return separator.join(_text(v) for v in value) or "(none)"
    if isinstance(value, dict):
        width = max((len(str(k)) for k in value), default=0)
        return "\n".join(f"{k!s:<{width}}  {_short(v)}" for k, v in value.items())
    return str(value)


def _short(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)
    return str(value)


def _job_row(job: Job) -> dict[str, Any]:
    row = job.to_dict()
    row.pop("lease_token", None)
    return row


def _queue(backend: BaseBackend, args: argparse.Namespace) -> Queue:
    return Queue(args.queue, backend=backend)


async def _queues(backend: BaseBackend, args: argparse.Namespace) -> Any:
    rows = {}
    for name in await backend.list_queues():
        counts = await backend.counts(name)
        rows[name] = {s.value: n for s, n in counts.items() if n}
        if await backend.is_paused(name):
            rows[name]["paused"] = True
    return rows


async def _stats(backend: BaseBackend, args: argparse.Namespace) -> Any:
    return await _queue(backend, args).queue_stats()


async def _jobs(backend: BaseBackend, args: argparse.Namespace) -> Any:
    jobs = await _queue(backend, args).list_jobs(args.state, offset=args.offset, limit=args.limit)
    if args.json:
        return [_job_row(j) for j in jobs]
    return [f"{j.id}  {j.task_id}  attempts={j.attempts}" for j in jobs]


async def _job(backend: BaseBackend, args: argparse.Namespace) -> Any:
    job = await _queue(backend, args).get_job(args.job_id)
    if job is None:
        raise SystemExit(f"no job {args.job_id!r} in queue {args.queue!r}")
    return _job_row(job)


async def _retry(backend: BaseBackend, args: argparse.Namespace) -> Any:
    return {"retried": await _queue(backend, args).retry_job(args.job_id)}


async def _cancel(backend: BaseBackend, args: argparse.Namespace) -> Any:
    return {"cancelled": await _queue(backend, args).cancel_job(args.job_id)}


async def _remove(backend: BaseBackend, args: argparse.Namespace) -> Any:
    return {"removed": await _queue(backend, args).remove_job(args.job_id)}


async def _pause(backend: BaseBackend, args: argparse.Namespace) -> Any:
    await _queue(backend, args).pause()
    return {"paused": True}


async def _resume(backend: BaseBackend, args: argparse.Namespace) -> Any:
    await _queue(backend, args).resume()
    return {"paused": False}


async def _clean(backend: BaseBackend, args: argparse.Namespace) -> Any:
    older_than = time.time() - args.older_than
    return {"removed": await _queue(backend, args).clean(args.state, older_than)}


async def _drain(backend: BaseBackend, args: argparse.Namespace) -> Any:
    return {"removed": await _queue(backend, args).drain()}


async def _workers(backend: BaseBackend, args: argparse.Namespace) -> Any:
    workers = await backend.list_workers(args.queue, seen_since=time.time() - 30)
    return [w.to_dict() for w in workers]


async def _repeatables(backend: BaseBackend, args: argparse.Namespace) -> Any:
    return [r.to_dict() for r in await _queue(backend, args).list_repeatables()]


async def _add(backend: BaseBackend, args: argparse.Namespace) -> Any:
    job_id = await _queue(backend, args).add(
        args.task_id,
        json.loads(args.args),
        json.loads(args.kwargs),
        delay=args.delay,
        priority=args.priority,
    )
    return {"id": job_id}


async def _migrate(backend: BaseBackend, args: argparse.Namespace) -> Any:
    await backend.migrate()
    return {"migrated": True}

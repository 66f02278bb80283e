"""The read commands: queues, stats, jobs, job, workers, repeatables (``--watch`` for the first
two). None of them creates storage, and a queue nobody has used gets a warning."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import anyio

from asyncmq.backends.base import BaseBackend
from asyncmq.cli.options import duration, format_duration, non_negative_int, positive_int
from asyncmq.cli.output import Output, cell, emit, local_time, record, shorten, table, yes_no
from asyncmq.cli.target import Action, CommandError, add_command, run
from asyncmq.jobs import Job, JobState


def add_commands(commands: Any) -> None:
    def read(name: str, action: Action, help: str) -> argparse.ArgumentParser:
        return add_command(commands, name, action, help, queue=True, warn_unknown=True)

    queues = add_command(commands, "queues", _queues, "list queues with their job counts")
    stats = read("stats", _stats, "job counts per state of a queue")
    for cmd, action in ((queues, _queues), (stats, _stats)):
        cmd.add_argument(
            "--watch",
            nargs="?",
            const=2.0,
            type=duration,
            metavar="SECONDS",
            help="redraw every SECONDS (default when given: 2s; 90s, 5m also work) until Ctrl-C",
        )
        cmd.set_defaults(handler=_watchable(action))
    jobs = read("jobs", _jobs, "list jobs of a queue in one state")
    jobs.add_argument(
        "--state",
        default="waiting",
        choices=[s.value for s in JobState],
        help="the state to list (default: waiting)",
    )
    jobs.add_argument(
        "--limit", type=positive_int, default=20, metavar="N", help="jobs to show (default: 20)"
    )
    jobs.add_argument(
        "--offset",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="jobs to skip first (default: 0)",
    )
    read("job", _job, "show one job, with its error and traceback").add_argument("job_id")
    read("workers", _workers, "live workers of a queue (heartbeat within 30s)")
    read("repeatables", _repeatables, "repeatable definitions of a queue")


def _watchable(action: Action) -> Any:
    def handler(args: argparse.Namespace) -> int:
        if args.watch is None:
            return run(action, args)
        try:
            return run(_watching(action), args)
        except KeyboardInterrupt:
            return 0

    return handler


def _watching(action: Action) -> Action:
    async def watch(backend: BaseBackend, args: argparse.Namespace) -> None:
        while True:
            output = await action(backend, args)
            if output is None:
                return
            if args.json:
                emit(output, as_json=True, lines=True)
            else:
                if sys.stdout.isatty():
                    sys.stdout.write("\033[H\033[2J")  # cursor home, clear screen
                every = format_duration(args.watch)
                print(f"{local_time(time.time())}, every {every} (Ctrl-C to stop)\n")
                emit(output, as_json=False)
                if not sys.stdout.isatty():
                    print()
            await anyio.sleep(args.watch)

    return watch


async def _queues(backend: BaseBackend, args: argparse.Namespace) -> Output:
    data: dict[str, dict[str, Any]] = {}
    rows = []
    for name in await backend.list_queues():
        counts = await backend.counts(name)
        paused = await backend.is_paused(name)
        data[name] = {s.value: n for s, n in counts.items() if n}
        if paused:
            data[name]["paused"] = True
        rows.append([name, yes_no(paused), *(counts.get(s, 0) for s in JobState)])
    headers = ["queue", "paused", *(s.value for s in JobState)]
    return Output(data, table(headers, rows, empty="(no queues)"))


async def _stats(backend: BaseBackend, args: argparse.Namespace) -> Output:
    counts = await backend.counts(args.queue)
    data = {state.value: counts.get(state, 0) for state in JobState}
    paused = await backend.is_paused(args.queue)
    return Output(data, record({**data, "paused": paused}))


async def _jobs(backend: BaseBackend, args: argparse.Namespace) -> Output:
    state = JobState(args.state)
    jobs = await backend.list_jobs(args.queue, state, offset=args.offset, limit=args.limit)
    headers = ["id", "task", "priority", "attempts", "created"]
    # the instant that matters in this state, and for failures, why
    when = _WHEN.get(state, ("finished", "finished_at") if state.is_finished else None)
    errors = state in (JobState.FAILED, JobState.EXPIRED)
    headers += ([when[0]] if when else []) + (["error"] if errors else [])
    rows = []
    for job in jobs:
        row: list[Any] = [job.id, job.task_id, job.priority, job.attempts]
        row.append(local_time(job.created_at))
        if when:
            row.append(cell(when[1], job.to_dict()[when[1]]))
        if errors:
            row.append(shorten(f"{job.error.type}: {job.error.message}") if job.error else "-")
        rows.append(row)
    text = table(headers, rows, empty=f"(no {state.value} jobs)")
    return Output([_job_row(j) for j in jobs], text)


_WHEN = {JobState.DELAYED: ("runs at", "run_at"), JobState.ACTIVE: ("started", "started_at")}


async def _job(backend: BaseBackend, args: argparse.Namespace) -> Output:
    job = await backend.get_job(args.queue, args.job_id)
    if job is None:
        raise CommandError(f"no job {args.job_id!r} in queue {args.queue!r}")
    return Output(_job_row(job), _job_text(job))


def _job_row(job: Job) -> dict[str, Any]:
    row = job.to_dict()
    row.pop("lease_token", None)
    return row


def _job_text(job: Job) -> str:
    fields = _job_row(job)
    error = fields.pop("error")
    if error is not None:
        fields["error"] = f"{error['type']}: {error['message']}"
    text = record(fields)
    if error is not None and error["traceback"]:
        text += "\n\n" + error["traceback"].rstrip()
    return text


async def _workers(backend: BaseBackend, args: argparse.Namespace) -> Output:
    workers = await backend.list_workers(args.queue, seen_since=time.time() - 30)
    headers = ["id", "host", "pid", "concurrency", "active", "processed", "failed"]
    headers += ["started", "last heartbeat"]
    rows = [
        [w.id, w.hostname, w.pid, w.concurrency, w.active, w.processed, w.failed, started, seen]
        for w in workers
        for started, seen in [(local_time(w.started_at), local_time(w.heartbeat_at))]
    ]
    text = table(headers, rows, empty="(no live workers)")
    return Output([w.to_dict() for w in workers], text)


async def _repeatables(backend: BaseBackend, args: argparse.Namespace) -> Output:
    repeatables = await backend.list_repeatables(args.queue)
    headers = ["key", "task", "schedule", "paused", "created"]
    rows = [
        [
            r.key,
            r.job.get("task_id", "-"),
            f"cron {r.cron}" if r.cron else f"every {cell('every', r.every)}",
            yes_no(r.paused),
            local_time(r.created_at),
        ]
        for r in repeatables
    ]
    text = table(headers, rows, empty="(no repeatables)")
    return Output([r.to_dict() for r in repeatables], text)

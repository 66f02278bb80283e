"""The commands that change queues: add, retry, retry-failed, cancel, remove, pause, resume,
clean, drain, repeatable pause/resume/remove, db migrate."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import anyio

from asyncmq.backends.base import BaseBackend
from asyncmq.cli.options import duration, format_duration, json_list, json_object
from asyncmq.cli.output import Output, warn
from asyncmq.cli.target import UNKNOWN, CommandError, add_command, known_queue, redacted
from asyncmq.jobs import FINISHED_STATES, JobState
from asyncmq.queues import Queue
from asyncmq.settings import settings

_RETRYABLE = (JobState.FAILED, JobState.EXPIRED, JobState.CANCELLED)


def add_commands(commands: Any) -> None:
    def change(name: str, action: Any, help: str, **options: bool) -> argparse.ArgumentParser:
        return add_command(commands, name, action, help, queue=True, **options)

    add = change("add", _add, "enqueue a job", creates=True)
    add.add_argument("task_id", help="the task's id, e.g. app.tasks.send_welcome")
    add.add_argument(
        "--args",
        type=json_list,
        default=[],
        metavar="JSON",
        help="JSON list of positional arguments (default: [])",
    )
    add.add_argument(
        "--kwargs",
        type=json_object,
        default={},
        metavar="JSON",
        help="JSON object of keyword arguments (default: {})",
    )
    add.add_argument(
        "--delay",
        type=duration,
        metavar="DURATION",
        help="run no sooner than this from now: seconds, or 90s, 15m, 1h (default: 0)",
    )
    add.add_argument("--priority", type=int, metavar="N", help="lower runs first (default: 5)")
    change("retry", _retry, "run a failed, expired or cancelled job again").add_argument("job_id")
    change("retry-failed", _retry_failed, "run every failed job of a queue again")
    change("cancel", _cancel, "cancel a job that has not finished").add_argument("job_id")
    change("remove", _remove, "delete a job").add_argument("job_id")
    pause = change("pause", _pause, "stop workers from starting jobs of a queue")
    pause.add_argument(
        "--create",
        dest="creates",
        action="store_true",
        help="pause a queue with no jobs, repeatables or workers yet (refused without it)",
    )
    change("resume", _resume, "let workers start jobs of a queue again")
    clean = change("clean", _clean, "delete finished jobs")
    clean.add_argument(
        "--state",
        default="completed",
        choices=sorted(s.value for s in FINISHED_STATES),
        help="the finished state to delete (default: completed)",
    )
    clean.add_argument(
        "--older-than",
        type=duration,
        default=0.0,
        metavar="DURATION",
        help="only jobs that finished longer ago than this: seconds, or 90s, 15m, 1h, 7d "
        "(default: 0, every job in the state)",
    )
    drain = change("drain", _drain, "delete every job that has not started")
    for cmd in (clean, drain):
        cmd.add_argument(
            "-y",
            "--yes",
            action="store_true",
            help="do not ask for confirmation (asked only when stdin is a terminal)",
        )
    _add_repeatable_commands(commands)
    db = commands.add_parser("db", help="storage schema commands", description="storage schema")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    add_command(
        db_commands, "migrate", _migrate, "create or upgrade tables and indexes", creates=True
    )


def _add_repeatable_commands(commands: Any) -> None:
    repeatable = commands.add_parser(
        "repeatable",
        help="pause, resume or remove a repeatable",
        description="Pause, resume or remove a repeatable definition; "
        "`asyncmq repeatables QUEUE` lists the keys.",
    )
    actions = repeatable.add_subparsers(dest="repeatable_command", required=True, metavar="COMMAND")
    for name, action, help in (
        ("pause", _pause_repeatable, "stop a repeatable from adding jobs"),
        ("resume", _resume_repeatable, "let a repeatable add jobs again"),
        ("remove", _remove_repeatable, "delete a repeatable definition"),
    ):
        add_command(actions, name, action, help, queue=True).add_argument("key")


async def _add(backend: BaseBackend, args: argparse.Namespace) -> Output:
    queue = Queue(args.queue, backend=backend)
    job_id = await queue.add(
        args.task_id, args.args, args.kwargs, delay=args.delay, priority=args.priority
    )
    return Output({"id": job_id}, job_id)


async def _missing_job(backend: BaseBackend, args: argparse.Namespace) -> str:
    job = await backend.get_job(args.queue, args.job_id)
    if job is None:
        return f"no job {args.job_id!r} in queue {args.queue!r}"
    return f"job {args.job_id!r} is {job.state.value}"


async def _retry(backend: BaseBackend, args: argparse.Namespace) -> Output:
    if await Queue(args.queue, backend=backend).retry_job(args.job_id):
        return Output({"retried": True}, f"retried job {args.job_id}")
    why = await _missing_job(backend, args)
    if not why.startswith("no job"):
        why += "; retry takes failed, expired and cancelled jobs"
    raise CommandError(why, {"retried": False})


async def _cancel(backend: BaseBackend, args: argparse.Namespace) -> Output:
    if await Queue(args.queue, backend=backend).cancel_job(args.job_id):
        return Output({"cancelled": True}, f"cancelled job {args.job_id}")
    why = await _missing_job(backend, args)
    if not why.startswith("no job"):
        why += "; it has finished already"
    raise CommandError(why, {"cancelled": False})


async def _remove(backend: BaseBackend, args: argparse.Namespace) -> Output:
    if await Queue(args.queue, backend=backend).remove_job(args.job_id):
        return Output({"removed": True}, f"removed job {args.job_id}")
    raise CommandError(await _missing_job(backend, args), {"removed": False})


async def _retry_failed(backend: BaseBackend, args: argparse.Namespace) -> Output:
    if not await _known_or_warn(backend, args.queue):
        return Output({"retried": 0}, "retried 0 failed jobs")
    # Ids first, then retries: retrying takes jobs out of the list being paged through.
    ids: dict[str, None] = {}
    while True:
        page = await backend.list_jobs(args.queue, JobState.FAILED, offset=len(ids), limit=500)
        ids.update((job.id, None) for job in page)
        if len(page) < 500:
            break
    queue = Queue(args.queue, backend=backend)
    retried = sum([await queue.retry_job(job_id) for job_id in ids])
    return Output({"retried": retried}, f"retried {retried} failed jobs")


async def _pause(backend: BaseBackend, args: argparse.Namespace) -> Output:
    if not args.creates and not await known_queue(backend, args.queue):
        raise CommandError(UNKNOWN.format(args.queue) + "; pause --create pauses it anyway")
    await backend.pause(args.queue)
    return Output({"paused": True}, f"paused queue {args.queue}")


async def _resume(backend: BaseBackend, args: argparse.Namespace) -> Output:
    if not await _known_or_warn(backend, args.queue):
        return Output({"paused": False}, "nothing resumed")
    await backend.resume(args.queue)
    return Output({"paused": False}, f"resumed queue {args.queue}")


async def _clean(backend: BaseBackend, args: argparse.Namespace) -> Output:
    state = JobState(args.state)
    if not await _known_or_warn(backend, args.queue):
        return _removed(0)
    count = (await backend.counts(args.queue)).get(state, 0)
    age = f" that finished over {format_duration(args.older_than)} ago" if args.older_than else ""
    question = f"Delete the {state.value} jobs of queue {args.queue!r}{age} ({count} in all)?"
    await _confirm(args, count, question)
    queue = Queue(args.queue, backend=backend)
    return _removed(await queue.clean(state, time.time() - args.older_than))


async def _drain(backend: BaseBackend, args: argparse.Namespace) -> Output:
    if not await _known_or_warn(backend, args.queue):
        return _removed(0)
    counts = await backend.counts(args.queue)
    unstarted = (JobState.WAITING, JobState.DELAYED, JobState.WAITING_CHILDREN)
    count = sum(counts.get(s, 0) for s in unstarted)
    question = f"Delete the {count} jobs of queue {args.queue!r} that have not started?"
    await _confirm(args, count, question)
    return _removed(await backend.drain(args.queue))


def _removed(count: int) -> Output:
    return Output({"removed": count}, f"removed {count} jobs")


async def _confirm(args: argparse.Namespace, count: int, question: str) -> None:
    """Ask on a terminal, unless ``--yes`` or there is nothing to delete; a script's stdin is
    no terminal, so scripts are never asked."""
    if args.yes or count == 0 or not sys.stdin.isatty():
        return
    answer = await anyio.to_thread.run_sync(_ask, f"{question} This cannot be undone. [y/N] ")
    if answer.strip().lower() not in ("y", "yes"):
        raise CommandError("nothing deleted")


def _ask(prompt: str) -> str:
    sys.stderr.write(prompt)
    sys.stderr.flush()
    return sys.stdin.readline()


async def _known_or_warn(backend: BaseBackend, queue: str) -> bool:
    if await known_queue(backend, queue):
        return True
    warn(UNKNOWN.format(queue) + "; nothing to do")
    return False


async def _pause_repeatable(backend: BaseBackend, args: argparse.Namespace) -> Output:
    await _set_repeatable(backend, args, paused=True)
    return Output({"paused": True}, f"paused repeatable {args.key}")


async def _resume_repeatable(backend: BaseBackend, args: argparse.Namespace) -> Output:
    await _set_repeatable(backend, args, paused=False)
    return Output({"paused": False}, f"resumed repeatable {args.key}")


async def _set_repeatable(backend: BaseBackend, args: argparse.Namespace, *, paused: bool) -> None:
    if not await backend.set_repeatable_paused(args.queue, args.key, paused):
        raise CommandError(_no_repeatable(args))


async def _remove_repeatable(backend: BaseBackend, args: argparse.Namespace) -> Output:
    if not await backend.remove_repeatable(args.queue, args.key):
        raise CommandError(_no_repeatable(args))
    return Output({"removed": True}, f"removed repeatable {args.key}")


def _no_repeatable(args: argparse.Namespace) -> str:
    return f"no repeatable {args.key!r} in queue {args.queue!r} (see: asyncmq repeatables QUEUE)"


async def _migrate(backend: BaseBackend, args: argparse.Namespace) -> Output:
    await backend.migrate()
    # Stores without a schema do nothing in migrate(): one read proves the server answers.
    await backend.list_queues()
    url = redacted(args.backend or settings.backend_url)
    return Output({"migrated": True}, f"migrated {url}")

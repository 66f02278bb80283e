"""``asyncmq worker``: run queues in this process, or supervise several worker processes."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import subprocess
import sys
import time
from typing import Any

import anyio

from asyncmq.backends import from_url
from asyncmq.functions import allow_imports
from asyncmq.queues import Queue
from asyncmq.settings import settings

log = logging.getLogger("asyncmq.cli")


def add_commands(commands: Any) -> None:
    cmd = commands.add_parser(
        "worker",
        help="process jobs of one or more queues",
        description="Import the modules that define your @task functions, then process jobs. "
        "With --processes N > 1 a supervisor runs N worker processes and restarts any that dies.",
    )
    cmd.add_argument("queues", nargs="+", help="queue names to process")
    cmd.add_argument(
        "-a",
        "--app",
        action="append",
        default=[],
        help="module to import for its @task functions; jobs may also name plain functions "
        "of it and its submodules (repeatable; more modules with ASYNCMQ_IMPORTS)",
    )
    cmd.add_argument("-c", "--concurrency", type=int, default=10, help="jobs at once per queue")
    cmd.add_argument("-p", "--processes", type=int, default=1, help="worker processes")
    cmd.add_argument("--rate-limit", type=int, default=None, help="job starts per interval")
    cmd.add_argument("--rate-interval", type=float, default=1.0)
    cmd.add_argument("--grace-period", type=float, default=30.0)
    cmd.set_defaults(handler=run_worker)


def run_worker(args: argparse.Namespace) -> int:
    if args.processes > 1:
        return _supervise(args)
    sys.path.insert(0, os.getcwd())
    for module in args.app:
        importlib.import_module(module)
    # The --app modules define the @tasks, and their plain functions may run as jobs too.
    allow_imports(*args.app)
    backend = from_url(args.backend) if args.backend else settings.backend
    queues = [
        Queue(
            name,
            backend=backend,
            concurrency=args.concurrency,
            rate_limit=args.rate_limit,
            rate_interval=args.rate_interval,
            grace_period=args.grace_period,
        )
        for name in args.queues
    ]
    log.info("worker %d processing %s", os.getpid(), ", ".join(args.queues))
    anyio.run(_serve, queues)
    return 0


async def _serve(queues: list[Queue]) -> None:
    async with anyio.create_task_group() as tg:
        for queue in queues:
            tg.start_soon(queue.run)
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for _ in signals:
                log.info("stopping: finishing running jobs")
                tg.cancel_scope.cancel()
                break
    await queues[0].backend.aclose()


def _child_command(args: argparse.Namespace) -> list[str]:
    command = [sys.executable, "-m", "asyncmq.cli"]
    if args.backend:
        command += ["--backend", args.backend]
    if args.verbose:
        command += ["--verbose"]
    command += ["worker", *args.queues, "-c", str(args.concurrency), "-p", "1"]
    command += ["--grace-period", str(args.grace_period)]
    if args.rate_limit is not None:
        command += [
            "--rate-limit",
            str(args.rate_limit),
            "--rate-interval",
            str(args.rate_interval),
        ]
    for module in args.app:
        command += ["--app", module]
    return command


def _supervise(args: argparse.Namespace) -> int:
    """Keep ``args.processes`` workers alive until SIGINT/SIGTERM, then stop them gracefully."""
    command = _child_command(args)
    children: list[subprocess.Popen[bytes]] = []
    stopping = False
    restarts: list[float] = []

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for _ in range(args.processes):
        children.append(subprocess.Popen(command))
    log.info(
        "supervising %d workers: %s", len(children), " ".join(map(str, (c.pid for c in children)))
    )
    while not stopping:
        time.sleep(0.2)
        for index, child in enumerate(children):
            if child.poll() is not None and not stopping:
                # Back off if workers die in a loop (bad import, backend down).
                restarts = [t for t in restarts if time.monotonic() - t < 60] + [time.monotonic()]
                delay = min(0.5 * 2 ** max(len(restarts) - 3, 0), 30.0)
                log.warning(
                    "worker %d exited with %s; restarting in %.1fs",
                    child.pid,
                    child.returncode,
                    delay,
                )
                deadline = time.monotonic() + delay
                while not stopping and time.monotonic() < deadline:
                    time.sleep(0.1)
                if not stopping:
                    children[index] = subprocess.Popen(command)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + args.grace_period + 10
    for child in children:
        try:
            child.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            child.kill()
    return 0

"""Every benchmark target: which interpreter, which store, which worker command and settings."""

from __future__ import annotations

from dataclasses import dataclass, field

# Placeholders filled per worker process: {bin} (the venv's bin/), {python}, {url}, {conc}.
Argv = tuple[str, ...]


@dataclass(frozen=True)
class Settings:
    """How the harness runs a target's workers: `processes` of `concurrency` each."""

    processes: int
    concurrency: int
    note: str = ""


@dataclass(frozen=True)
class Target:
    """A library on one store. `env` None means our checkout in the main virtualenv."""

    name: str
    module: str
    store: str
    env: str | None
    worker: Argv
    best: Settings
    baseline: Settings = field(default_factory=lambda: Settings(1, 10))


PY = "{python}"
T = "benchmarks.targets."

TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        # Ours. No `asyncmq worker` command yet, so a 10-line script builds the Queue and runs it.
        Target(
            "asyncmq-redis",
            "asyncmq_target",
            "redis",
            None,
            (PY, "-m", T + "asyncmq_target"),
            Settings(2, 50),
        ),
        Target(
            "asyncmq-postgres",
            "asyncmq_target",
            "postgres",
            None,
            (PY, "-m", T + "asyncmq_target"),
            Settings(2, 50),
        ),
        Target(
            "asyncmq-sqlite",
            "asyncmq_target",
            "sqlite",
            None,
            (PY, "-m", T + "asyncmq_target"),
            Settings(1, 50),
        ),
        Target(
            "asyncmq-mongodb",
            "asyncmq_target",
            "mongodb",
            None,
            (PY, "-m", T + "asyncmq_target"),
            Settings(2, 50),
        ),
        # Peers on Redis, each with its documented worker command.
        Target(
            "arq",
            "arq_target",
            "redis",
            "arq",
            ("{bin}arq", T + "arq_target.WorkerSettings"),
            Settings(2, 50),
        ),
        Target(
            "saq",
            "saq_target",
            "redis",
            "saq",
            ("{bin}saq", T + "saq_target.settings"),
            Settings(2, 50),
        ),
        Target(
            "taskiq",
            "taskiq_target",
            "redis",
            "taskiq",
            (
                "{bin}taskiq",
                "worker",
                T + "taskiq_target:broker",
                "--workers",
                "1",
                "--max-async-tasks",
                "{conc}",
            ),
            Settings(2, 50),
        ),
        Target(
            "rq",
            "rq_target",
            "redis",
            "rq",
            (
                "{bin}rq",
                "worker",
                "--url",
                "{url}",
                "--worker-class",
                "rq.worker.SimpleWorker",
                "--quiet",
                "bench",
            ),
            Settings(2, 1, "rq runs one job at a time per worker process"),
            Settings(1, 1, "rq has no in-process concurrency: 1 job at a time"),
        ),
        Target(
            "dramatiq",
            "dramatiq_target",
            "redis",
            "dramatiq",
            ("{bin}dramatiq", T + "dramatiq_target", "--processes", "1", "--threads", "{conc}"),
            Settings(2, 8),
        ),
        Target(
            "celery",
            "celery_target",
            "redis",
            "celery",
            (
                "{bin}celery",
                "-A",
                T + "celery_target",
                "worker",
                "--pool",
                "threads",
                "--concurrency",
                "{conc}",
                "-Q",
                "bench",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel",
                "WARNING",
            ),
            Settings(2, 8),
        ),
        Target(
            "huey",
            "huey_target",
            "redis",
            "huey",
            ("{bin}huey_consumer", T + "huey_target.huey", "-k", "thread", "-w", "{conc}", "-q"),
            Settings(2, 8),
        ),
        Target(
            "bullmq",
            "bullmq_target",
            "redis",
            "bullmq",
            (PY, "-m", T + "bullmq_target"),
            Settings(2, 50),
        ),
        Target(
            "streaq",
            "streaq_target",
            "redis",
            "streaq",
            ("{bin}streaq", "run", T + "streaq_target:worker"),
            Settings(2, 50),
        ),
        Target(
            "asyncmq-pypi-redis",
            "asyncmq_pypi_target",
            "redis",
            "asyncmq-pypi",
            (PY, "-m", T + "asyncmq_pypi_target"),
            Settings(2, 50),
        ),
        # Peers on PostgreSQL.
        Target(
            "procrastinate",
            "procrastinate_target",
            "postgres",
            "procrastinate",
            (
                "{bin}procrastinate",
                "--app",
                T + "procrastinate_target.app",
                "worker",
                "--concurrency",
                "{conc}",
                "--queues",
                "bench",
            ),
            Settings(2, 20),
        ),
        Target(
            "pgqueuer",
            "pgqueuer_target",
            "postgres",
            "pgqueuer",
            ("{bin}pgq", "run", T + "pgqueuer_target:create_pgqueuer", "--log-level", "WARNING"),
            Settings(2, 50),
        ),
        Target(
            "oban",
            "oban_target",
            "postgres",
            "oban",
            (PY, "-m", T + "oban_target"),
            Settings(2, 50),
        ),
        Target(
            "awa", "awa_target", "postgres", "awa", (PY, "-m", T + "awa_target"), Settings(2, 50)
        ),
        Target(
            "asyncmq-pypi-postgres",
            "asyncmq_pypi_target",
            "postgres",
            "asyncmq-pypi",
            (PY, "-m", T + "asyncmq_pypi_target"),
            Settings(2, 50),
        ),
    )
}

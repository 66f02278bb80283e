"""Runs the measurements for one target: stores reset, workers spawned, figures gathered."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from benchmarks import envs, procstats, recorder
from benchmarks.catalog import Settings, Target

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent
# Peers import `benchmarks` from a directory that holds nothing else, so they never see our
# checkout's `asyncmq` (the PyPI project of the same name must win in its own venv).
SHIM = envs.ENVS_DIR / "_path"


@dataclass
class Options:
    """What to measure and how much."""

    jobs: int = 20_000
    latency_samples: int = 1000
    latency_rate: float = 100.0
    repeats: int = 3
    warmup: int = 500
    add_concurrency: int = 20
    scaling: tuple[int, ...] = ()
    history: tuple[int, ...] = ()
    skip_best: bool = False
    extra_only: bool = False  # only the --scaling and --history figures
    budget: float = 20.0  # seconds a slow target may spend on one repetition
    results: Path = ROOT / "results"
    urls: dict[str, str] | None = None


DEFAULT_URLS = {
    "redis": "redis://127.0.0.1:6379/15",
    "postgres": "postgresql://postgres@127.0.0.1:5432/asyncmq_bench",
    "sqlite": "sqlite:///{results}/bench.db",
    "mongodb": "mongodb://127.0.0.1:27017/asyncmq_bench",
}


class TargetFailed(Exception):
    """The target cannot be measured at all; the message is the reason shown in the table."""


class Agent:
    """The producer process (`benchmarks.agent`) in the target's interpreter."""

    def __init__(self, runner: TargetRunner) -> None:
        self.log_path = runner.logs / f"{runner.target.name}.agent.log"
        self.proc = subprocess.Popen(
            [*runner.python, "-m", "benchmarks.agent", runner.target.module],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=runner.log("agent"),
            text=True,
            cwd=runner.cwd,
            env=runner.env(runner.target.baseline),
        )

    def call(self, cmd: str, **args: Any) -> dict[str, Any]:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            raise TargetFailed(f"producer process exited (code {code}): {self.tail()}")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer

    def tail(self) -> str:
        lines = self.log_path.read_text(errors="replace").splitlines()
        return " | ".join(line.strip() for line in lines[-2:])[-300:]

    def close(self) -> None:
        assert self.proc.stdin
        try:
            self.proc.stdin.write('{"cmd": "quit"}\n')
            self.proc.stdin.close()
            self.proc.wait(30)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


class TargetRunner:
    """Measures one target; every figure is the median of `repeats` runs after a warm-up."""

    def __init__(self, target: Target, options: Options) -> None:
        self.target = target
        self.options = options
        urls = {**DEFAULT_URLS, **(options.urls or {})}
        self.url = urls[target.store].format(results=options.results.resolve())
        self.recorder = redis.Redis.from_url(recorder.RECORDER_URL)
        self.logs = options.results / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        for old in self.logs.glob(f"{target.name}.*.log"):
            old.unlink()
        if target.env is None:
            self.python = [sys.executable]
            self.bin = str(Path(sys.executable).parent) + "/"
            self.cwd = REPO
        else:
            self.python = [str(envs.env_python(target.env))]
            self.bin = str(envs.env_python(target.env).parent) + "/"
            self.cwd = SHIM
        self.timeout = 60 + options.jobs / 100
        self.jobs = options.jobs  # lowered for a target too slow to do `jobs` within budget

    def log(self, role: str) -> Any:
        return (self.logs / f"{self.target.name}.{role}.log").open("a")

    def env(self, settings: Settings) -> dict[str, str]:
        return {
            **os.environ,
            "PYTHONPATH": str(self.cwd),
            "BENCH_URL": self.url,
            "BENCH_CONCURRENCY": str(settings.concurrency),
            "BENCH_RECORDER_URL": recorder.RECORDER_URL,
        }

    # -- stores and workers ---------------------------------------------------------------

    def reset(self) -> None:
        """Empty the broker store and the recorder; the next `open` recreates any schema."""
        reset_store(self.target.store, self.url)
        recorder.reset(self.recorder)

    @contextmanager
    def workers(self, settings: Settings) -> Iterator[list[int]]:
        argv = [
            part.format(
                bin=self.bin, python=self.python[0], url=self.url, conc=settings.concurrency
            )
            for part in self.target.worker
        ]
        procs = [
            subprocess.Popen(
                argv,
                cwd=self.cwd,
                env=self.env(settings),
                stdout=self.log("worker"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            for _ in range(settings.processes)
        ]
        try:
            yield [p.pid for p in procs]
        finally:
            for proc in procs:
                _stop(proc)

    def worker_tail(self) -> str:
        path = self.logs / f"{self.target.name}.worker.log"
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        return " | ".join(line.strip() for line in lines[-3:])[-400:]

    def wait_done(self, n: int, pids: list[int]) -> None:
        deadline = time.monotonic() + self.timeout
        while (count := recorder.done(self.recorder)) < n:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{count} of {n} jobs done after {self.timeout:.0f} s")
            if not any(procstats.alive(p) for p in pids):
                raise TargetFailed(f"worker exited: {self.worker_tail()}")
            time.sleep(0.01)
        time.sleep(recorder.FLUSH_INTERVAL * 3)

    # -- the measurements -----------------------------------------------------------------

    def measure(self) -> dict[str, Any]:
        figures: dict[str, Any] = {}
        errors: dict[str, str] = {}
        opts = self.options
        steps: list[tuple[str, Callable[[], dict[str, Any]]]] = []
        if not opts.extra_only:
            steps += [
                ("process", lambda: self.process(self.target.baseline, latency=True)),
                ("add", self.add),
                ("drain", self.drain),
            ]
        if not (opts.skip_best or opts.extra_only):
            steps.append(("best", lambda: _prefix("best_", self.process(self.target.best))))
        for procs in opts.scaling:
            settings = Settings(procs, self.target.baseline.concurrency)
            steps.append(
                (
                    f"procs{procs}",
                    lambda s=settings, p=procs: {  # type: ignore[misc]
                        f"process_{p}procs": self.process(s)["process"]
                    },
                )
            )
        for stored in opts.history:
            steps.append((f"history{stored}", lambda n=stored: self.history(n)))  # type: ignore[misc]
        for name, step in steps:
            try:
                figures.update(step())
            except TargetFailed:
                raise
            except Exception as exc:
                errors[name] = f"{type(exc).__name__}: {exc}"[:300]
                print(f"  {self.target.name} {name}: {errors[name]}", file=sys.stderr)
            if name == "process" and "process" not in figures:
                # The worker never ran our jobs: nothing else would measure anything.
                raise TargetFailed(errors.get(name, "no figure"))
        figures["jobs_per_figure"] = self.jobs
        return {"figures": figures, "errors": errors}

    def fitted(self, rate: float) -> int:
        """Jobs per repetition: `jobs`, or fewer when `rate` would overrun the budget."""
        return max(self.options.warmup, min(self.options.jobs, int(rate * self.options.budget)))

    def fit(self, rate: float) -> None:
        self.jobs = self.fitted(rate)

    @contextmanager
    def agent(self) -> Iterator[Agent]:
        agent = Agent(self)
        try:
            agent.call("open", url=self.url)
            yield agent
        finally:
            agent.close()

    def add(self) -> dict[str, Any]:
        opts = self.options
        out: dict[str, Any] = {}
        n_add = opts.jobs
        for mode in ("one", "concurrent", "bulk"):
            rates = []
            for rep in range(opts.repeats + (1 if mode == "one" else 0)):
                self.reset()
                with self.agent() as agent:
                    n = opts.warmup if rep == 0 and mode == "one" else n_add
                    try:
                        answer = agent.call("add", mode=mode, n=n, concurrency=opts.add_concurrency)
                    except RuntimeError as exc:
                        if "no bulk" in str(exc):
                            break
                        raise
                if rep == 0 and mode == "one":
                    n_add = self.fitted(opts.warmup / answer["seconds"])
                else:
                    rates.append(n / answer["seconds"])
            out[f"add_{mode}"] = _figure(rates) if rates else None
        return out

    def process(self, settings: Settings, *, latency: bool = False) -> dict[str, Any]:
        """Throughput with workers already running, CPU and memory; optionally latency."""
        opts = self.options
        self.reset()
        with self.agent() as agent, self.workers(settings) as pids:
            agent.call("prefill", n=opts.warmup, concurrency=opts.add_concurrency)
            try:
                self.wait_done(opts.warmup, pids)
            except RuntimeError as exc:
                raise RuntimeError(f"warm-up: {exc}; worker log: {self.worker_tail()}") from exc
            first, last = recorder.span(self.recorder)
            self.fit(opts.warmup / max(last - first, 1e-3))
            rates, cpus = [], []
            for _ in range(opts.repeats):
                recorder.reset(self.recorder)
                cpu = procstats.cpu_seconds(pids)
                answer = agent.call(
                    "produce", n=self.jobs, concurrency=opts.add_concurrency, timeout=self.timeout
                )
                cpus.append((procstats.cpu_seconds(pids) - cpu) * 10_000 / self.jobs)
                rates.append(self.jobs / answer["seconds"])
            out: dict[str, Any] = {
                "process": _figure(rates),
                "cpu_s_per_10k": _figure(cpus),
                "peak_rss_mb": procstats.peak_rss_mb(pids),
            }
            if latency:
                p50s, p99s = [], []
                for _ in range(opts.repeats):
                    recorder.reset(self.recorder)
                    answer = agent.call(
                        "latency",
                        n=opts.latency_samples,
                        rate=opts.latency_rate,
                        timeout=self.timeout,
                    )
                    p50s.append(answer["p50_ms"])
                    p99s.append(answer["p99_ms"])
                out["latency_p50_ms"] = _figure(p50s)
                out["latency_p99_ms"] = _figure(p99s)
        return out

    def drain(self) -> dict[str, Any]:
        """Pre-fill a stopped queue, start the workers, time first to last completion."""
        rates = []
        for _ in range(self.options.repeats):
            self.reset()
            with self.agent() as agent:
                agent.call("prefill", n=self.jobs, concurrency=self.options.add_concurrency)
            recorder.reset(self.recorder)
            with self.workers(self.target.baseline) as pids:
                self.wait_done(self.jobs, pids)
                first, last = recorder.span(self.recorder)
            rates.append(self.jobs / (last - first))
        return {"drain": _figure(rates)}

    def history(self, stored: int) -> dict[str, Any]:
        """Processing throughput with `stored` finished jobs already in the store."""
        self.reset()
        with self.agent() as agent:
            agent.call("prefill", n=stored, concurrency=self.options.add_concurrency)
        recorder.reset(self.recorder)
        with self.workers(Settings(2, self.target.baseline.concurrency)) as pids:
            old_timeout, self.timeout = self.timeout, 120 + stored / 200
            try:
                self.wait_done(stored, pids)
            finally:
                self.timeout = old_timeout
        opts = self.options
        rates = []
        with self.agent() as agent, self.workers(self.target.baseline):
            for _ in range(opts.repeats):
                recorder.reset(self.recorder)
                answer = agent.call(
                    "produce", n=self.jobs, concurrency=opts.add_concurrency, timeout=self.timeout
                )
                rates.append(self.jobs / answer["seconds"])
        return {f"process_after_{stored}": _figure(rates)}


def _figure(values: list[float]) -> dict[str, Any]:
    return {"median": statistics.median(values), "runs": [round(v, 3) for v in values]}


def _prefix(prefix: str, figures: dict[str, Any]) -> dict[str, Any]:
    return {prefix + key: value for key, value in figures.items()}


def _stop(proc: subprocess.Popen[bytes]) -> None:
    # Each worker leads its own session, so its group is exactly what we started.
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError):  # stragglers: forked children of the leader
        os.killpg(proc.pid, signal.SIGKILL)


def reset_store(store: str, url: str) -> None:
    """Empty a benchmark store: flush the Redis DB, recreate the PostgreSQL database."""
    if store == "redis":
        # ASYNC: a million-job keyspace is unlinked at once and freed in the background.
        redis.Redis.from_url(url, socket_timeout=None).flushdb(asynchronous=True)
    elif store == "postgres":
        database = url.rsplit("/", 1)[1]
        admin = url.rsplit("/", 1)[0] + "/postgres"
        for sql in (
            f"DROP DATABASE IF EXISTS {database} WITH (FORCE)",
            f"CREATE DATABASE {database}",
        ):
            subprocess.run(["psql", admin, "-q", "-c", sql], check=True, capture_output=True)
    elif store == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    elif store == "mongodb":
        import pymongo

        client: Any = pymongo.MongoClient(url)
        client.drop_database(client.get_default_database().name)
        client.close()


def make_shim() -> None:
    """benchmarks/.envs/_path/benchmarks -> benchmarks/, the only thing on the peers' path."""
    SHIM.mkdir(parents=True, exist_ok=True)
    link = SHIM / "benchmarks"
    if not link.exists():
        link.symlink_to(ROOT, target_is_directory=True)


def remove_results(path: Path) -> None:
    """Drop a previous run's logs and database files."""
    shutil.rmtree(path / "logs", ignore_errors=True)

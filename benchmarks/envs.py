"""Peer virtualenvs: one per peer under benchmarks/.envs/<peer>, installed with pip from PyPI."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ENVS_DIR = Path(__file__).resolve().parent / ".envs"


@dataclass(frozen=True)
class PeerEnv:
    """What to pip-install for one peer; `distribution` is the package whose version we report."""

    name: str
    distribution: str
    requirements: tuple[str, ...]
    pip_flags: tuple[str, ...] = ()


# `redis` is in every env because the completion recorder writes to Redis, whatever the broker.
PEER_ENVS: dict[str, PeerEnv] = {
    env.name: env
    for env in (
        PeerEnv("arq", "arq", ("arq", "redis")),
        PeerEnv("saq", "saq", ("saq", "redis", "typing_extensions")),  # saq 0.26 omits it
        PeerEnv("taskiq", "taskiq", ("taskiq", "taskiq-redis", "redis")),
        PeerEnv("rq", "rq", ("rq", "redis")),
        PeerEnv("dramatiq", "dramatiq", ("dramatiq[redis]", "redis")),
        PeerEnv("celery", "celery", ("celery[redis]", "redis")),
        PeerEnv("huey", "huey", ("huey", "redis")),
        PeerEnv("bullmq", "bullmq", ("bullmq", "redis")),
        PeerEnv("streaq", "streaq", ("streaq", "redis")),
        PeerEnv("procrastinate", "procrastinate", ("procrastinate", "psycopg[binary]", "redis")),
        # pgqueuer 1.6.0 `pgq run` breaks on typer 0.20+ (an enum option arrives as str).
        PeerEnv("pgqueuer", "pgqueuer", ("pgqueuer", "asyncpg", "redis", "typer<0.20")),
        # oban (oban-py on PyPI is published as `oban`) declares Requires-Python >=3.12; we try
        # anyway so the table shows whether it runs on this machine's 3.11.
        PeerEnv("oban", "oban", ("oban", "redis"), ("--ignore-requires-python",)),
        PeerEnv("awa", "awa-pg", ("awa-pg", "redis")),
        # The unrelated, older PyPI project that is also called asyncmq.
        PeerEnv("asyncmq-pypi", "asyncmq", ("asyncmq", "redis", "asyncpg")),
    )
}


def env_python(name: str) -> Path:
    """The interpreter of a peer's virtualenv."""
    return ENVS_DIR / name / "bin" / "python"


def _status_path(name: str) -> Path:
    return ENVS_DIR / f"{name}.status.json"


def install_status(name: str) -> dict[str, str]:
    """`{"ok": "1", "version": ...}` or `{"ok": "", "error": ...}`; empty when never installed."""
    path = _status_path(name)
    if not path.exists():
        return {}
    data: dict[str, str] = json.loads(path.read_text())
    return data


def install(name: str, *, force: bool = False) -> dict[str, str]:
    """Create the peer's venv and pip-install its requirements; remember the outcome."""
    spec = PEER_ENVS[name]
    status = install_status(name)
    if status.get("ok") and not force:
        return status
    target = ENVS_DIR / name
    venv.EnvBuilder(with_pip=True, clear=True).create(target)
    cmd = [str(env_python(name)), "-m", "pip", "install", "-q", *spec.pip_flags]
    proc = subprocess.run([*cmd, *spec.requirements], capture_output=True, text=True)
    if proc.returncode != 0:
        tail = [line for line in proc.stderr.splitlines() if "WARNING: Location" not in line]
        status = {"ok": "", "error": "pip install failed: " + " | ".join(tail[-3:])}
    else:
        status = {"ok": "1", "version": _version(name, spec.distribution)}
    _status_path(name).write_text(json.dumps(status))
    return status


def _version(name: str, distribution: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({distribution!r}))"
    proc = subprocess.run([str(env_python(name)), "-c", code], capture_output=True, text=True)
    return proc.stdout.strip() or "?"


def install_all(names: list[str], *, force: bool = False, parallel: int = 3) -> None:
    """Install several peers' venvs, a few at a time (pip mostly waits on the network)."""
    ENVS_DIR.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(parallel) as pool:
        for name, status in zip(
            names, pool.map(lambda n: install(n, force=force), names), strict=True
        ):
            print(f"{name}: {status.get('version') or status.get('error')}", file=sys.stderr)

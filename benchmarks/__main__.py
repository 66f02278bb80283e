"""`python -m benchmarks install|run|table|publish`: peers' venvs, measurements, tables."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchmarks import envs, report
from benchmarks.catalog import TARGETS, Target
from benchmarks.runner import DEFAULT_URLS, ROOT, Options, TargetFailed, TargetRunner, make_shim

BACKENDS_DIR = ROOT.parent / "asyncmq" / "backends"


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    install = sub.add_parser("install", help="create the peers' virtualenvs (pip, PyPI)")
    install.add_argument("peers", nargs="*", help="default: all")
    install.add_argument("--force", action="store_true")
    run = sub.add_parser("run", help="measure targets; writes JSON and a markdown table")
    run.add_argument(
        "--target",
        action="append",
        default=[],
        help=f"repeatable; 'all', 'asyncmq' or any of: {', '.join(TARGETS)}",
    )
    run.add_argument(
        "--url",
        action="append",
        default=[],
        metavar="STORE=URL",
        help="override a store URL, e.g. redis=redis://127.0.0.1:6379/15",
    )
    run.add_argument("--jobs", type=int, default=20_000, help="jobs per throughput figure")
    run.add_argument("--latency-samples", type=int, default=1000)
    run.add_argument("--latency-rate", type=float, default=100.0, help="paced adds per second")
    run.add_argument("--repeats", type=int, default=3)
    run.add_argument("--warmup", type=int, default=500)
    run.add_argument("--scaling", type=_ints, default=(), help="worker process counts, e.g. 1,2,4")
    run.add_argument(
        "--history",
        type=_ints,
        default=(),
        help="finished jobs stored beforehand, e.g. 10000,1000000",
    )
    run.add_argument(
        "--budget",
        type=float,
        default=20.0,
        help="seconds per repetition; slower targets get fewer jobs",
    )
    run.add_argument(
        "--extra-only", action="store_true", help="measure only --scaling and --history"
    )
    run.add_argument("--skip-best", action="store_true", help="skip the best-settings run")
    run.add_argument("--out", type=Path, default=ROOT / "results" / "latest.json")
    table = sub.add_parser("table", help="print the markdown table of a results file")
    table.add_argument("path", type=Path, nargs="?", default=ROOT / "results" / "latest.json")
    publish = sub.add_parser(
        "publish", help="copy a results file to benchmarks/latest.json and its table to README"
    )
    publish.add_argument(
        "paths", type=Path, nargs="*", help="results files; later ones add figures to earlier"
    )
    return parser.parse_args(argv)


def select(names: list[str]) -> list[Target]:
    chosen: list[str] = []
    for name in names or ["all"]:
        if name == "all":
            chosen += list(TARGETS)
        elif name == "asyncmq":
            chosen += [n for n in TARGETS if n.startswith("asyncmq-") and "pypi" not in n]
        elif name in TARGETS:
            chosen.append(name)
        else:
            raise SystemExit(f"unknown target {name!r}; known: {', '.join(TARGETS)}")
    return [TARGETS[n] for n in dict.fromkeys(chosen)]


def unavailable(target: Target, options: Options) -> str | None:
    """Why the target cannot run here, before trying it."""
    if target.env is None:
        if target.store == "sqlite" and (BACKENDS_DIR / "sqlite").exists():
            return None
        if not any((BACKENDS_DIR / f"{target.store}{s}").exists() for s in ("", ".py")):
            return f"skipped: asyncmq has no {target.store} backend in this checkout yet"
        url = urlsplit({**DEFAULT_URLS, **(options.urls or {})}["mongodb"])
        where = (url.hostname or "127.0.0.1", url.port or 27017)
        if target.store == "mongodb" and not _listening(where):
            return f"skipped: no MongoDB server at {where[0]}:{where[1]} (--url mongodb=...)"
        return None
    status = envs.install(target.env)
    return None if status.get("ok") else status["error"]


def _listening(address: tuple[str, int]) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(address) == 0


def measure(target: Target, options: Options) -> dict[str, Any]:
    version = "checkout" if target.env is None else envs.install_status(target.env).get("version")
    row: dict[str, Any] = {
        "target": target.name,
        "store": target.store,
        "version": version or "?",
        "baseline": f"{target.baseline.processes}x{target.baseline.concurrency}",
        "best": f"{target.best.processes}x{target.best.concurrency}",
        "notes": target.best.note or target.baseline.note,
        "status": "ok",
    }
    reason = unavailable(target, options)
    if reason:
        row["status"] = reason
        return row
    started = time.monotonic()
    try:
        row.update(TargetRunner(target, options).measure())
    except TargetFailed as exc:
        row["status"] = f"failed: {exc}"[:400]
    except Exception as exc:
        row["status"] = f"failed: {type(exc).__name__}: {exc}"[:400]
    row["seconds"] = round(time.monotonic() - started, 1)
    return row


def _commit() -> str:
    """The checkout's commit: the asyncmq code these figures are for."""
    proc = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return proc.stdout.strip() or "?"


def run(args: argparse.Namespace) -> None:
    options = Options(
        jobs=args.jobs,
        latency_samples=args.latency_samples,
        latency_rate=args.latency_rate,
        repeats=args.repeats,
        warmup=args.warmup,
        scaling=args.scaling,
        history=args.history,
        skip_best=args.skip_best,
        budget=args.budget,
        extra_only=args.extra_only,
        results=args.out.parent,
        urls=dict(item.split("=", 1) for item in args.url),
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    make_shim()
    results: dict[str, Any] = {
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": _commit(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "options": {k: v for k, v in vars(args).items() if k not in ("command", "out")},
        "targets": [],
    }
    for target in select(args.target):
        print(f"{target.name} ...", file=sys.stderr, flush=True)
        row = measure(target, options)
        print(f"{target.name}: {row['status']} {row.get('figures', '')}", file=sys.stderr)
        results["targets"].append(row)
        # Written after every target, so a long run interrupted still leaves its figures.
        args.out.write_text(json.dumps(results, indent=2, default=str))
    args.out.with_suffix(".md").write_text(report.table(results))
    print(report.table(results))


def _exit_on_sigterm(signum: int, frame: object) -> None:
    # SystemExit unwinds through the runner's `finally` blocks, which stop the workers (they
    # lead sessions of their own, so nothing else would).
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> None:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.command == "install":
        envs.install_all(args.peers or list(envs.PEER_ENVS), force=args.force)
    elif args.command == "run":
        run(args)
    elif args.command == "publish":
        paths = args.paths or [ROOT / "results" / "latest.json"]
        merged = report.merge([json.loads(path.read_text()) for path in paths])
        report.publish(merged, ROOT / "latest.json", ROOT / "README.md")
    else:
        print(report.table(json.loads(args.path.read_text())))


if __name__ == "__main__":
    main()

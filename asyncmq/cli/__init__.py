"""The ``asyncmq`` command: run supervised workers, inspect and manage queues."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from asyncmq.cli import admin, worker


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="asyncmq",
        description="Run asyncmq workers and inspect queues. The backend comes from --backend "
        "or ASYNCMQ_BACKEND_URL (default: sqlite:///asyncmq.db).",
    )
    parser.add_argument("--backend", help="backend URL, e.g. redis://localhost:6379/0")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    worker.add_commands(commands)
    admin.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``asyncmq`` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        code: int = args.handler(args)
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())

"""The ``asyncmq`` command: run supervised workers, inspect and manage queues."""

from __future__ import annotations

import argparse
import logging
import platform
import sys
import traceback
from collections.abc import Sequence
from typing import Any, NoReturn

from asyncmq import __version__
from asyncmq.cli import admin, inspection, worker
from asyncmq.cli.options import add_env_flag
from asyncmq.cli.target import CommandError


class _Parser(argparse.ArgumentParser):
    """Usage errors end in ``asyncmq: error: ...`` (exit 2), whichever subcommand's they are,
    and every subcommand takes the global options too."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"asyncmq: error: {message}\n")

    def add_subparsers(self, **kwargs: Any) -> Any:
        kwargs.setdefault("action", _Commands)
        return super().add_subparsers(**kwargs)


class _Commands(argparse._SubParsersAction):  # type: ignore[type-arg]
    def add_parser(self, name: str, **kwargs: Any) -> Any:
        kwargs.setdefault("parents", [_global_options(after_command=True)])
        return super().add_parser(name, **kwargs)


def _global_options(*, after_command: bool) -> argparse.ArgumentParser:
    """``--backend`` and ``-v``. Repeated after the command, they default to nothing, so that
    values given before the command stay."""
    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group("global options")
    backend_help = (
        "backend URL, e.g. redis://localhost:6379/0 or postgresql://app@db/app "
        "(default: env ASYNCMQ_BACKEND_URL, else sqlite:///asyncmq.db)"
    )
    verbose_help = "log at DEBUG level and show tracebacks of errors"
    if after_command:
        group.add_argument("--backend", metavar="URL", default=argparse.SUPPRESS, help=backend_help)
        group.add_argument(
            "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=verbose_help
        )
    else:
        group.add_argument("--backend", metavar="URL", help=backend_help)
        add_env_flag(group, "-v", "--verbose", env="ASYNCMQ_VERBOSE", help=verbose_help)
    return options


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="asyncmq",
        description="Run asyncmq workers and inspect queues. Global options may come before "
        "or after the command. Exit status: 0 success, 1 failure, 2 usage error.",
        parents=[_global_options(after_command=False)],
    )
    python = f"Python {platform.python_version()}"
    parser.add_argument("--version", action="version", version=f"asyncmq {__version__} ({python})")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    worker.add_commands(commands)
    inspection.add_commands(commands)
    admin.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``asyncmq`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        code: int = args.handler(args)
    except KeyboardInterrupt:
        return 130
    except CommandError as exc:
        return _fail(str(exc), exc if args.verbose and exc.__cause__ else None)
    except Exception as exc:  # the worker command's failures, told in one line too
        return _fail(f"{type(exc).__name__}: {exc}", exc if args.verbose else None)
    return code


def _fail(message: str, shown: BaseException | None) -> int:
    if shown is not None:
        traceback.print_exception(type(shown), shown, shown.__traceback__)
    print(f"asyncmq: error: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())

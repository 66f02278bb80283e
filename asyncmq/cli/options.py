"""Option values the ``asyncmq`` commands share (durations, counts, JSON arguments) and options
that fall back to an environment variable, named in their help."""

from __future__ import annotations

import argparse
import json
import os
import re
from collections.abc import Callable, Sequence
from typing import Any

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h|d)")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def duration(text: str) -> float:
    """Seconds from ``90``, ``2.5``, ``90s``, ``500ms``, ``15m``, ``1h``, ``1d`` or a sum of
    such parts (``1h30m``); :class:`argparse.ArgumentTypeError` for anything else."""
    value = text.strip().lower()
    try:
        seconds = float(value)
    except ValueError:
        parts = _PART.findall(value)
        if not parts or "".join(n + u for n, u in parts) != value:
            raise argparse.ArgumentTypeError(
                f"invalid duration {text!r}: use seconds (90, 2.5) or a number with a unit "
                "(500ms, 90s, 15m, 1h, 1d, 1h30m)"
            ) from None
        seconds = sum(float(number) * _UNITS[unit] for number, unit in parts)
    if not seconds >= 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"invalid duration {text!r}: must be 0 or more")
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest form :func:`duration` reads back: ``30s``, ``15m``, ``1h30m``, ``0.5s``."""
    if seconds > 0 and seconds == int(seconds):
        rest, parts = int(seconds), []
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
            if rest >= size:
                parts.append(f"{rest // size}{unit}")
                rest %= size
        return "".join(parts)
    return f"{seconds:g}s"


def positive_int(text: str) -> int:
    """A whole number of at least 1."""
    return _int_at_least(text, 1)


def non_negative_int(text: str) -> int:
    """A whole number of at least 0."""
    return _int_at_least(text, 0)


def _int_at_least(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected a whole number >= {minimum}, not {text!r}")
    return value


def json_list(text: str) -> list[Any]:
    """A JSON array, e.g. ``'[1, "a"]'`` (positional arguments of a job)."""
    value = _json(text, "a JSON list such as '[1, \"a\"]'")
    if not isinstance(value, list):
        hint = " (keyword arguments go in --kwargs)" if isinstance(value, dict) else ""
        raise argparse.ArgumentTypeError(
            f"expected a JSON list such as '[1, \"a\"]', not {text!r}{hint}"
        )
    return value


def json_object(text: str) -> dict[str, Any]:
    """A JSON object, e.g. ``'{"month": "2026-10"}'`` (keyword arguments of a job)."""
    value = _json(text, "a JSON object such as '{\"name\": 1}'")
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(
            f"expected a JSON object such as '{{\"name\": 1}}', not {text!r}"
        )
    return value


def _json(text: str, expected: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected {expected}, not {text!r} ({exc.args[0] if exc.args else exc})"
        ) from None


def parse_flag(text: str) -> bool:
    """``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off``, in any case."""
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise argparse.ArgumentTypeError(
        f"expected 1, true, yes, on, 0, false, no or off, not {text!r}"
    )


class _EnvText(str):
    """A default read from the environment: argparse converts string defaults with the
    option's ``type`` only when the option is absent, and conversion errors then name the
    variable instead of the option's value."""

    env: str

    def __new__(cls, text: str, env: str) -> _EnvText:
        value = super().__new__(cls, text)
        value.env = env
        return value


def _naming_env(convert: Callable[[str], Any]) -> Callable[[str], Any]:
    def convert_value(text: str) -> Any:
        if not isinstance(text, _EnvText):
            return convert(text)
        try:
            return convert(text)
        except argparse.ArgumentTypeError as exc:
            raise argparse.ArgumentTypeError(f"{text.env}={str(text)!r}: {exc}") from None
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(
                f"{text.env}={str(text)!r}: invalid {convert_value.__name__} value"
            ) from None

    # argparse names the type in its own message ("invalid int value: 'x'")
    convert_value.__name__ = getattr(convert, "__name__", "value")
    return convert_value


def _shown(value: object, convert: Callable[[str], Any]) -> str:
    if value is None:
        return "none"
    if convert is duration and isinstance(value, (int, float)):
        return format_duration(value)
    return str(value)


def _env_help(help: str, env: str, default: str) -> str:
    raw = os.environ.get(env, "")
    now = f", set to {raw!r}" if raw else ""
    return f"{help} (default: {default}; env {env}{now})".replace("%", "%%")


def add_env_option(
    parser: argparse._ActionsContainer,
    *flags: str,
    env: str,
    default: object = None,
    type: Callable[[str], Any] = str,
    help: str,
    **kwargs: Any,
) -> argparse.Action:
    """An option taking one value, that falls back to ``env`` and then ``default``.

    The value of ``env`` goes through ``type`` like a command-line value, when the option is
    absent from the command line; a bad value is a usage error (exit 2) naming the variable.
    The help ends in ``(default: ...; env NAME)``; durations are shown as ``30s``.
    """
    raw = os.environ.get(env, "")
    return parser.add_argument(
        *flags,
        type=_naming_env(type),
        default=_EnvText(raw, env) if raw else default,
        help=_env_help(help, env, _shown(default, type)),
        **kwargs,
    )


class _EnvFlag(argparse.Action):
    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, True)


def add_env_flag(
    parser: argparse._ActionsContainer, *flags: str, env: str, help: str, **kwargs: Any
) -> argparse.Action:
    """A switch (``--fail-fast``) that is on when given, else when ``env`` is ``1``, ``true``,
    ``yes`` or ``on`` (``0``, ``false``, ``no``, ``off`` or unset: off)."""
    raw = os.environ.get(env, "")
    return parser.add_argument(
        *flags,
        action=_EnvFlag,
        type=_naming_env(parse_flag),
        default=_EnvText(raw, env) if raw else False,
        help=_env_help(help, env, "off"),
        **kwargs,
    )

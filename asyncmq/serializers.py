"""The payload codec: JSON through orjson, restricted to values that come back unchanged."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from asyncmq.errors import SerializationError

# orjson would quietly turn datetimes, dataclasses and str/int subclasses into JSON that comes
# back as another type; passing them through to `default` makes them fail instead.
_OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def _refuse(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> bytes:
    """Encode ``value``; raise :class:`SerializationError` if it cannot be."""
    try:
        return orjson.dumps(value, default=_refuse, option=_OPTIONS)
    except TypeError as exc:
        raise SerializationError(str(exc)) from None


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    """Decode bytes produced by :func:`dumps`."""
    return orjson.loads(data)


def check_value(value: Any, label: str = "value") -> None:
    """Raise :class:`SerializationError` unless ``value`` survives a JSON round trip.

    Allowed: ``str``, 64-bit ``int``, finite ``float``, ``bool``, ``None``, lists and tuples (they
    come back as lists) and dicts with ``str`` keys, nested. Subclasses (enums, ``IntEnum``),
    UUIDs, datetimes, sets and NaN are refused rather than silently changed. ``label`` names
    the value in the error.
    """
    _check(value, label, ())


def check_arguments(args: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
    """Raise :class:`SerializationError` naming the first argument that cannot be encoded."""
    for index, value in enumerate(args):
        if not _is_scalar(value):
            _check(value, ("positional argument", index), ())
    for name, value in kwargs.items():
        if not _is_scalar(value):
            _check(value, ("keyword argument", name), ())


def _is_scalar(value: Any) -> bool:
    """True for the values that need no walk: ``str``, ``None``, ``bool``, a finite ``float``
    and a 64-bit ``int`` (the common arguments, checked without building a label)."""
    kind = type(value)
    if kind is str or value is None or kind is bool:
        return True
    if kind is float:
        return math.isfinite(value)
    return kind is int and -(2**63) <= value < 2**64


# A value's label is built only for an error: checking is on every add's path.
_Root = str | tuple[str, int | str]


def _check(value: Any, root: _Root, path: tuple[int | str, ...]) -> None:
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return
    if kind is int:
        if not -(2**63) <= value < 2**64:
            _refuse_value(root, path, f"{value} exceeds 64 bits")
        return
    if kind is float:
        if not math.isfinite(value):
            _refuse_value(root, path, f"{value!r} is not finite")
        return
    if kind is list or kind is tuple:
        for index, item in enumerate(value):
            _check(item, root, (*path, index))
        return
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                _refuse_value(root, path, f"key {key!r} is not a str")
            _check(item, root, (*path, key))
        return
    _refuse_value(root, path, f"{kind.__name__} does not round-trip through JSON")


def _refuse_value(root: _Root, path: tuple[int | str, ...], why: str) -> None:
    if isinstance(root, tuple):
        kind, key = root
        label = f"{kind} {key}" if isinstance(key, int) else f"{kind} {key!r}"
    else:
        label = root
    label += "".join(f"[{step!r}]" for step in path)
    raise SerializationError(f"{label} cannot be serialised: {why}")

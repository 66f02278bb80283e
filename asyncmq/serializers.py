"""The payload codec: JSON through orjson, restricted to types that round-trip."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from asyncmq.errors import SerializationError

# orjson would silently turn datetimes, dataclasses and str/int subclasses into JSON that comes
# back as a different type; passing them through makes them fail loudly at add() instead.
_OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_NON_STR_KEYS
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


def check_arguments(args: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
    """Raise :class:`SerializationError` naming the first argument that cannot be encoded."""
    try:
        orjson.dumps([args, kwargs], default=_refuse, option=_OPTIONS)
        return
    except TypeError:
        pass
    for index, value in enumerate(args):
        _check_one(f"positional argument {index}", value)
    for name, value in kwargs.items():
        _check_one(f"keyword argument {name!r}", value)
    raise SerializationError("job arguments are not JSON serialisable")


def _check_one(label: str, value: Any) -> None:
    try:
        orjson.dumps(value, default=_refuse, option=_OPTIONS)
    except TypeError as exc:
        raise SerializationError(f"{label} cannot be serialised: {exc}") from None

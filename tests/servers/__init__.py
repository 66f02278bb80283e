"""Test servers, one module per backend.

Each module ``tests/servers/<name>.py`` provides:

* ``start(workdir: pathlib.Path) -> str``: the URL of a server for this test session (from
  ``ASYNCMQ_TEST_<NAME>_URL``, or a throwaway server it starts), or raise
  :class:`Unavailable` with the reason. Called once per session.
* ``stop() -> None``: stop whatever ``start`` started.
* ``build(url: str, test_id: str) -> BaseBackend``: a backend for one test, isolated from other
  tests where the store allows (a prefix, schema or database named after ``test_id``).

and may provide ``PREMISE_CHANGED: dict[str, str]``: tests (``"<module file>::<test>"``) that
the ``backend`` fixture skips for this backend, each with the reason its design changes the
test's premise.
"""

from __future__ import annotations

import os
import socket


class Unavailable(Exception):
    """This backend's server cannot be had here; the message says why."""


def required() -> bool:
    return os.environ.get("ASYNCMQ_REQUIRE_BACKENDS", "") not in ("", "0")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])

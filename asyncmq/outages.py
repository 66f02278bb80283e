"""One log line per backend outage: the first failed call of any of a process's services says
what failed, the calls that fail after it stay quiet (DEBUG), and the first call that succeeds
again says how long the outage lasted."""

from __future__ import annotations

import logging
import time
import weakref

log = logging.getLogger("asyncmq.backend")


class Outage:
    """The state of one backend as its services see it: up, or down since an instant."""

    def __init__(self) -> None:
        self.since: float | None = None
        self.failures = 0

    def failed(self, what: str, queue: str, exc: BaseException) -> None:
        """A call failed: log it if it is the first of an outage (with the traceback at DEBUG)."""
        self.failures += 1
        if self.since is not None:
            log.debug("%s on queue %r failed again: %s", what, queue, _describe(exc), exc_info=exc)
            return
        self.since = time.monotonic()
        log.warning(
            "backend unavailable: %s on queue %r failed: %s; retrying with backoff "
            "(one line per outage; -v shows each failure)",
            what,
            queue,
            _describe(exc),
        )
        log.debug("the failure that started the outage", exc_info=exc)

    def succeeded(self) -> None:
        """A call succeeded: end the outage, if there was one."""
        if self.since is None:
            return
        log.warning(
            "backend reachable again after %.1fs (%d failed calls)",
            time.monotonic() - self.since,
            self.failures,
        )
        self.since = None
        self.failures = 0


_outages: weakref.WeakKeyDictionary[object, Outage] = weakref.WeakKeyDictionary()


def outage_of(backend: object) -> Outage:
    """The outage record every service of this process shares for ``backend``."""
    found = _outages.get(backend)
    if found is None:
        found = _outages[backend] = Outage()
    return found


def _describe(exc: BaseException) -> str:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__

"""One module per benchmarked library: its job function, worker settings and a producer.

Each module is imported only inside that library's own interpreter (a peer's virtualenv, or
ours), by `benchmarks.agent` on the producer side and by the library's worker command.
"""

from __future__ import annotations


class Producer:
    """Enqueues benchmark jobs; `stamp` is the job's only argument (enqueue wall time, or 0).

    Async libraries override `add` (and `add_bulk` with `bulk = True` when they have one);
    sync libraries set `blocking = True` and override `add_blocking`, which the agent runs in
    threads for concurrent adds.
    """

    bulk = False
    blocking = False

    async def add(self, stamp: float) -> None:
        self.add_blocking(stamp)

    def add_blocking(self, stamp: float) -> None:
        raise NotImplementedError

    async def add_bulk(self, stamps: list[float]) -> None:
        raise NotImplementedError

    async def aclose(self) -> None:
        return None

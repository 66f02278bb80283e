"""The producer side of a benchmark, run inside the target's own interpreter.

Reads one JSON command per line on stdin and answers one JSON line on the original stdout
(libraries that print are moved to stderr). The runner starts it with `python -m benchmarks.agent
<target module>`; it needs only the target's library and `redis` (for the recorder).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import statistics
import sys
import time
import traceback
from types import ModuleType
from typing import Any, TextIO

import redis

from benchmarks import recorder
from benchmarks.targets import Producer

CHUNK = 1000


class Agent:
    """Holds the open producer between commands."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.producer: Producer | None = None
        self.recorder = redis.Redis.from_url(recorder.RECORDER_URL)

    @property
    def open_producer(self) -> Producer:
        if self.producer is None:
            raise RuntimeError("no producer: send 'open' first")
        return self.producer

    async def do_open(self, url: str) -> dict[str, Any]:
        await self.module.setup(url)
        self.producer = await self.module.open_producer(url)
        return {}

    async def do_close(self) -> dict[str, Any]:
        if self.producer is not None:
            await self.producer.aclose()
            self.producer = None
        return {}

    async def do_add(self, mode: str, n: int, concurrency: int) -> dict[str, Any]:
        producer = self.open_producer
        if mode == "bulk" and not producer.bulk:
            return {"error": "no bulk enqueue API"}
        started = time.perf_counter()
        if mode == "one":
            for _ in range(n):
                await producer.add(0.0)
        elif mode == "concurrent":
            await self._concurrent(n, concurrency)
        else:
            await self._bulk(n)
        return {"seconds": time.perf_counter() - started}

    async def _concurrent(self, n: int, concurrency: int) -> None:
        producer = self.open_producer
        remaining = iter(range(n))

        async def lane() -> None:
            for _ in remaining:
                if producer.blocking:
                    await asyncio.to_thread(producer.add_blocking, 0.0)
                else:
                    await producer.add(0.0)

        await asyncio.gather(*(lane() for _ in range(concurrency)))

    async def _bulk(self, n: int) -> None:
        for start in range(0, n, CHUNK):
            await self.open_producer.add_bulk([0.0] * min(CHUNK, n - start))

    async def fill(self, n: int, concurrency: int) -> None:
        """Enqueue `n` throughput jobs the fastest way the library offers."""
        if self.open_producer.bulk:
            await self._bulk(n)
        else:
            await self._concurrent(n, concurrency)

    async def wait_done(self, n: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while (count := recorder.done(self.recorder)) < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {count} of {n} jobs finished within {timeout:.0f} s")
            await asyncio.sleep(0.01)

    async def do_prefill(self, n: int, concurrency: int) -> dict[str, Any]:
        await self.fill(n, concurrency)
        return {}

    async def do_warmup(self, n: int, concurrency: int, timeout: float) -> dict[str, Any]:
        await self.fill(n, concurrency)
        await self.wait_done(n, timeout)
        return {}

    async def do_produce(self, n: int, concurrency: int, timeout: float) -> dict[str, Any]:
        started = time.time()
        await self.fill(n, concurrency)
        await self.wait_done(n, timeout)
        # Wait for the last batch of timestamps, then use the job's own finish time.
        await asyncio.sleep(recorder.FLUSH_INTERVAL * 3)
        return {"seconds": recorder.span(self.recorder)[1] - started}

    async def do_latency(self, n: int, rate: float, timeout: float) -> dict[str, Any]:
        producer = self.open_producer
        interval = 1.0 / rate
        begin = time.monotonic()
        for i in range(n):
            # An absolute schedule, so a slow add does not stretch every later interval.
            await asyncio.sleep(max(0.0, begin + i * interval - time.monotonic()))
            await producer.add(time.time())
        await self.wait_done(n, timeout)
        await asyncio.sleep(recorder.FLUSH_INTERVAL * 3)
        samples = sorted(recorder.latencies(self.recorder))
        return {
            "p50_ms": statistics.median(samples) * 1000,
            "p99_ms": samples[min(len(samples) - 1, int(len(samples) * 0.99))] * 1000,
            "samples": len(samples),
        }


async def serve(agent: Agent, commands: TextIO, answers: TextIO) -> None:
    """Answer commands until 'quit' or end of input."""
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, commands.readline):
        command = json.loads(line)
        name = command.pop("cmd")
        if name == "quit":
            break
        try:
            answer = await getattr(agent, f"do_{name}")(**command)
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            answer = {"error": f"{type(exc).__name__}: {exc}"[:300]}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()
    await agent.do_close()


def main() -> None:
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # whatever the library prints goes to stderr, not into our answers
    module = importlib.import_module(f"benchmarks.targets.{sys.argv[1]}")
    asyncio.run(serve(Agent(module), sys.stdin, answers))


if __name__ == "__main__":
    main()

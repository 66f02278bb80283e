"""Redis for the tests: ``ASYNCMQ_TEST_REDIS_URL``, or a throwaway ``redis-server`` on a free
port. Each test gets its own key prefix, so tests never see each other's data."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from asyncmq.backends.base import BaseBackend
from tests.servers import Unavailable, free_port

_started: list[subprocess.Popen[bytes]] = []


def spawn(workdir: Path, port: int, *extra: str) -> subprocess.Popen[bytes]:
    """Start ``redis-server`` on ``port`` (no persistence unless ``extra`` asks) and wait
    until it answers; raise :class:`Unavailable` if it cannot be had."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise Unavailable("redis-server is not installed and ASYNCMQ_TEST_REDIS_URL is not set")
    workdir.mkdir(parents=True, exist_ok=True)
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir)]
    args += ["--save", "", "--appendonly", "no", *extra]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not wait_until_up(port):
        process.kill()
        process.wait()
        raise Unavailable(f"redis-server did not answer on port {port} within 10 s")
    return process


def wait_until_up(port: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return True
        except OSError:
            pass
        time.sleep(0.02)
    return False


def start(workdir: Path) -> str:
    url = os.environ.get("ASYNCMQ_TEST_REDIS_URL")
    if url:
        return url
    port = free_port()
    _started.append(spawn(workdir, port))
    return f"redis://127.0.0.1:{port}/0"


def stop() -> None:
    while _started:
        process = _started.pop()
        process.kill()
        process.wait()


def build(url: str, test_id: str) -> BaseBackend:
    from asyncmq.backends.redis import RedisBackend

    return RedisBackend(url, prefix=f"t{test_id}")

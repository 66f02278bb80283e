"""MongoDB for the tests: ``ASYNCMQ_TEST_MONGODB_URL``, else a throwaway SecantusDB server.

SecantusDB (GPL, test-only) speaks the MongoDB wire protocol; it runs as a separate process
and is never imported, by the library or by the tests.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from asyncmq.backends.base import BaseBackend
from tests.servers import Unavailable, free_port

_COMMAND = "secantusd-py"
_process: subprocess.Popen[bytes] | None = None


def _command() -> str | None:
    beside_python = Path(sys.executable).parent / _COMMAND
    if beside_python.exists():
        return str(beside_python)
    return shutil.which(_COMMAND)


def start(workdir: Path) -> str:
    global _process
    try:
        import pymongo  # noqa: F401 - only to say why the backend cannot run
    except ImportError as exc:
        raise Unavailable(
            f"pymongo is not installed ({exc}): pip install 'asyncmq[mongodb]'"
        ) from exc
    url = os.environ.get("ASYNCMQ_TEST_MONGODB_URL")
    if url:
        return url
    command = _command()
    if command is None:
        raise Unavailable(
            f"ASYNCMQ_TEST_MONGODB_URL is not set and {_COMMAND} is not installed "
            "(pip install SecantusDB==0.7.0b3)"
        )
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    argv = [command, "--host", "127.0.0.1", "--port", str(port)]
    with (workdir / "secantusd.log").open("wb") as log:  # the child keeps its own handle
        _process = subprocess.Popen(
            [*argv, "--storage-path", str(workdir / "data")], stdout=log, stderr=subprocess.STDOUT
        )
    wait_until_listening(_process, port, workdir)
    return f"mongodb://127.0.0.1:{port}/"


def wait_until_listening(process: subprocess.Popen[bytes], port: int, workdir: Path) -> None:
    """Return once the server accepts connections (about half a second); raise otherwise."""
    deadline = time.monotonic() + 20.0
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise Unavailable(f"{_COMMAND} exited with {process.returncode}; see {workdir}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    process.kill()
    process.wait()
    raise Unavailable(f"{_COMMAND} did not listen on port {port} within 20 s")


def stop() -> None:
    global _process
    if _process is None:
        return
    _process.terminate()
    try:
        _process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        _process.kill()
        _process.wait()
    _process = None


def build(url: str, test_id: str) -> BaseBackend:
    from asyncmq.backends.mongodb import MongoDBBackend

    class Throwaway(MongoDBBackend):
        """Drops its own database when closed, so a shared server does not fill up."""

        async def aclose(self) -> None:
            try:
                await self._client.drop_database(self._db.name)
            finally:
                await super().aclose()

    return Throwaway(url, database=f"t_{test_id}")

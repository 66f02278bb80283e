"""A Redis Cluster for the tests: ``ASYNCMQ_TEST_REDIS_CLUSTER_URL``, or three throwaway
masters on free ports joined with ``redis-cli --cluster create``."""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import time
from pathlib import Path

from asyncmq.backends.base import BaseBackend
from tests.servers import Unavailable
from tests.servers.redis import spawn

_started: list[subprocess.Popen[bytes]] = []


def _free_node_port() -> int:
    # A node also listens on its cluster bus, port + 10000, so both must be free (and the
    # OS's ephemeral ports, often above 55535, would push the bus port out of range).
    while True:
        port = random.randint(20000, 45000)
        try:
            for taken in (port, port + 10000):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", taken))
        except OSError:
            continue
        return port


def _cluster_ok(cli: str, port: int) -> bool:
    found = subprocess.run(
        [cli, "-p", str(port), "cluster", "info"], capture_output=True, timeout=5, check=False
    )
    return b"cluster_state:ok" in found.stdout


def start(workdir: Path) -> str:
    url = os.environ.get("ASYNCMQ_TEST_REDIS_CLUSTER_URL")
    if url:
        return url
    cli = shutil.which("redis-cli")
    if cli is None or shutil.which("redis-server") is None:
        raise Unavailable("redis-server/redis-cli are not installed and no cluster URL is set")
    ports = [_free_node_port() for _ in range(3)]
    try:
        for port in ports:
            node = ["--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{port}.conf"]
            _started.append(spawn(workdir / str(port), port, *node))
    except Unavailable:
        stop()  # the nodes that did start: the session will not call stop() for us
        raise
    nodes = [f"127.0.0.1:{port}" for port in ports]
    created = subprocess.run(
        [cli, "--cluster", "create", *nodes, "--cluster-replicas", "0", "--cluster-yes"],
        capture_output=True,
        timeout=30,
        check=False,
    )
    if created.returncode != 0:
        stop()
        raise Unavailable(f"redis-cli --cluster create failed: {created.stderr.decode()[-300:]}")
    deadline = time.monotonic() + 20
    while not all(_cluster_ok(cli, port) for port in ports):
        if time.monotonic() > deadline:
            stop()
            raise Unavailable("the local Redis Cluster did not reach cluster_state:ok in 20 s")
        time.sleep(0.1)
    return f"redis+cluster://127.0.0.1:{ports[0]}"


def stop() -> None:
    while _started:
        process = _started.pop()
        process.kill()
        process.wait()


def build(url: str, test_id: str) -> BaseBackend:
    from asyncmq.backends.redis import RedisBackend

    return RedisBackend(url, prefix=f"t{test_id}")

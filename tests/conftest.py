"""Fixtures shared by every suite: the ``backend`` fixture runs a test on every backend."""

from __future__ import annotations

import importlib
import pkgutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType

import pytest

import tests.servers
from asyncmq.backends.base import BaseBackend
from tests.servers import Unavailable, required

ORDER = ["memory", "sqlite", "redis", "redis_cluster", "postgres", "mongodb"]
BACKENDS = sorted(
    (m.name for m in pkgutil.iter_modules(tests.servers.__path__)),
    key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n),
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class _Servers:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.urls: dict[str, str | Unavailable] = {}
        self.modules: dict[str, ModuleType] = {}

    def url(self, name: str) -> tuple[ModuleType, str]:
        module = self.modules.get(name) or importlib.import_module(f"tests.servers.{name}")
        self.modules[name] = module
        if name not in self.urls:
            try:
                self.urls[name] = module.start(self.workdir / name)
            except Unavailable as exc:
                self.urls[name] = exc
        found = self.urls[name]
        if isinstance(found, Unavailable):
            message = f"{name} backend unavailable: {found}"
            if required():
                pytest.fail(f"{message} (ASYNCMQ_REQUIRE_BACKENDS=1)")
            pytest.skip(message)
        return module, found

    def stop(self) -> None:
        for name, module in self.modules.items():
            if not isinstance(self.urls.get(name), Unavailable):
                module.stop()


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Servers]:
    found = _Servers(tmp_path_factory.mktemp("servers"))
    yield found
    found.stop()


@pytest.fixture(params=BACKENDS)
def backend_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def backend(
    servers: _Servers, backend_name: str, request: pytest.FixtureRequest
) -> AsyncIterator[BaseBackend]:
    module, url = servers.url(backend_name)
    # A server module may name tests whose premise its backend changes by design.
    premise_changed: dict[str, str] = getattr(module, "PREMISE_CHANGED", {})
    reason = premise_changed.get(f"{request.node.path.name}::{request.node.originalname}")
    if reason is not None:
        pytest.skip(f"{backend_name}: {reason}")
    built: BaseBackend = module.build(url, uuid.uuid4().hex[:12])
    try:
        yield built
    finally:
        await built.aclose()


@pytest.fixture
def queue_name() -> str:
    return f"q-{uuid.uuid4().hex[:12]}"

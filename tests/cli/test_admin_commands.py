"""The admin commands, run in-process against a shared in-memory backend."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from asyncmq.backends.inmemory import InMemoryBackend
from asyncmq.cli import main
from asyncmq.settings import settings


@pytest.fixture
def memory_backend() -> Iterator[InMemoryBackend]:
    previous = settings._backend
    backend = InMemoryBackend()
    settings.backend = backend
    yield backend
    settings._backend = previous


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_add_inspect_cancel_and_retry(
    memory_backend: InMemoryBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    added = run(capsys, "add", "mail", "app.send", "--args", '["a@b.c"]', "--priority", "2")
    assert isinstance(added, dict)
    job_id = added["id"]
    assert run(capsys, "stats", "mail") == {
        "waiting": 1,
        "delayed": 0,
        "waiting-children": 0,
        "active": 0,
        "completed": 0,
        "failed": 0,
        "expired": 0,
        "cancelled": 0,
    }
    (listed,) = run(capsys, "jobs", "mail", "--state", "waiting")  # type: ignore[misc]
    assert (listed["id"], listed["args"], listed["priority"]) == (job_id, ["a@b.c"], 2)
    assert run(capsys, "queues") == {"mail": {"waiting": 1}}
    assert run(capsys, "cancel", "mail", job_id) == {"cancelled": True}
    assert run(capsys, "job", "mail", job_id)["state"] == "cancelled"  # type: ignore[index]
    assert run(capsys, "retry", "mail", job_id) == {"retried": True}
    assert run(capsys, "pause", "mail") == {"paused": True}
    assert run(capsys, "queues") == {"mail": {"waiting": 1, "paused": True}}
    assert run(capsys, "resume", "mail") == {"paused": False}
    assert run(capsys, "drain", "mail") == {"removed": 1}
    assert run(capsys, "clean", "mail", "--state", "failed") == {"removed": 0}
    assert run(capsys, "workers", "mail") == []
    assert run(capsys, "repeatables", "mail") == []


def test_plain_text_output(
    memory_backend: InMemoryBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stats", "empty"]) == 0
    out = capsys.readouterr().out
    assert "waiting-children  0" in out


def test_unknown_job_exits_with_a_message(
    memory_backend: InMemoryBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["job", "q", "nope"]) == 1
    assert capsys.readouterr().err.endswith("asyncmq: error: no job 'nope' in queue 'q'\n")

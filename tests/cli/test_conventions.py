"""The command's conventions: one-line errors with exit 1 (failures) or 2 (usage), --version,
``python -m asyncmq``, global options after the command, read commands that create nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import asyncmq
from tests.cli import ROOT, cli, error_line, json_of


def test_version(tmp_path: Path) -> None:
    done = cli(tmp_path, "--version")
    assert done.returncode == 0
    assert done.stdout.startswith(f"asyncmq {asyncmq.__version__} (Python ")


def test_python_m_asyncmq_and_asyncmq_cli_are_the_command(tmp_path: Path) -> None:
    done = cli(tmp_path, "--help")
    assert done.returncode == 0
    assert done.stdout.startswith("usage: asyncmq ")
    assert "retry-failed" in done.stdout
    legacy = subprocess.run(
        [sys.executable, "-m", "asyncmq.cli", "--version"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert legacy.stdout.startswith("asyncmq ")


def test_unknown_scheme_is_one_line(tmp_path: Path) -> None:
    done = cli(tmp_path, "--backend", "foo://x", "stats", "emails")
    assert done.returncode == 1
    assert error_line(done).startswith("asyncmq: error: unknown backend URL scheme 'foo'")


@pytest.mark.parametrize(
    "command",
    [
        ["stats", "emails"],
        ["queues"],
        ["jobs", "emails"],
        ["job", "emails", "0123"],
        ["workers", "emails"],
        ["repeatables", "emails"],
        ["drain", "emails"],
        ["pause", "emails"],
    ],
)
def test_commands_do_not_create_a_missing_sqlite_file(tmp_path: Path, command: list[str]) -> None:
    database = tmp_path / "missing" / "dir" / "x.db"
    done = cli(tmp_path, "--backend", f"sqlite:///{database}", *command)
    assert done.returncode == 1
    assert error_line(done) == (
        f"asyncmq: error: no SQLite database at {database}; this command does not create one "
        "(check --backend or ASYNCMQ_BACKEND_URL, or the working directory)"
    )
    assert not (tmp_path / "missing").exists()


def test_the_default_backend_is_not_created_by_a_read(tmp_path: Path) -> None:
    done = cli(tmp_path, "stats", "emails")
    assert done.returncode == 1
    assert f"no SQLite database at {tmp_path / 'asyncmq.db'}" in error_line(done)
    assert list(tmp_path.iterdir()) == []


def test_a_redis_database_must_be_a_number(tmp_path: Path) -> None:
    done = cli(tmp_path, "--backend", "redis://127.0.0.1:6379/abc", "stats", "emails")
    assert done.returncode == 1
    assert error_line(done) == (
        "asyncmq: error: the Redis database in redis://127.0.0.1:6379/abc must be a number, "
        "as in redis://localhost:6379/0"
    )


def test_a_port_out_of_range(tmp_path: Path) -> None:
    done = cli(tmp_path, "--backend", "redis://127.0.0.1:99999/0", "queues")
    assert done.returncode == 1
    assert error_line(done).startswith("asyncmq: error: bad port in redis://127.0.0.1:99999/0")


def test_an_unreachable_server_is_one_line_and_v_shows_the_traceback(tmp_path: Path) -> None:
    url = "redis://:secret@127.0.0.1:1/0"
    done = cli(tmp_path, "--backend", url, "stats", "emails")
    assert done.returncode == 1
    line = error_line(done)
    assert line.startswith("asyncmq: error: ConnectionError: ")
    assert line.endswith("(backend redis://:***@127.0.0.1:1/0)")
    verbose = cli(tmp_path, "stats", "emails", "--backend", url, "-v")
    assert verbose.returncode == 1
    assert "Traceback (most recent call last)" in verbose.stderr
    assert verbose.stderr.strip().splitlines()[-1] == line


def test_db_migrate_reaches_the_server(tmp_path: Path) -> None:
    done = cli(tmp_path, "--backend", "redis://127.0.0.1:1/0", "db", "migrate")
    assert done.returncode == 1
    assert "migrated" not in done.stdout
    assert error_line(done).startswith("asyncmq: error: ConnectionError: ")
    database = tmp_path / "new.db"
    done = cli(tmp_path, "db", "migrate", "--backend", f"sqlite:///{database}")
    assert (done.returncode, done.stdout) == (0, f"migrated sqlite:///{database}\n")
    assert database.exists()


def test_a_missing_driver_names_the_extra(tmp_path: Path) -> None:
    shadow = tmp_path / "shadow" / "redis"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError(\"No module named 'redis'\")\n")
    done = cli(
        tmp_path,
        "--backend",
        "redis://127.0.0.1:6379/0",
        "stats",
        "emails",
        pythonpath=f"{tmp_path / 'shadow'}:{ROOT}",
    )
    assert done.returncode == 1
    assert error_line(done) == (
        "asyncmq: error: the redis backend is not available (No module named 'redis'); "
        "install it with: pip install 'asyncmq[redis]'"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["stats"], "the following arguments are required: queue"),
        (["add", "q", "t", "--args", "1,2"], "argument --args: expected a JSON list"),
        (["add", "q", "t", "--args", '{"a": 1}'], "(keyword arguments go in --kwargs)"),
        (["add", "q", "t", "--kwargs", "[1]"], "argument --kwargs: expected a JSON object"),
        (["add", "q", "t", "--delay", "soon"], "argument --delay: invalid duration 'soon'"),
        (["clean", "q", "--older-than", "-1h"], "argument --older-than: expected one argument"),
        (["jobs", "q", "--limit", "0"], "argument --limit: expected a whole number >= 1"),
        (["repeatable", "pause", "q"], "the following arguments are required: key"),
        (["nosuchcommand"], "argument COMMAND: invalid choice: 'nosuchcommand'"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, argv: list[str], message: str) -> None:
    done = cli(tmp_path, *argv)
    assert done.returncode == 2
    assert done.stderr.startswith("usage: asyncmq")
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("asyncmq: error: ")
    assert message in last
    assert list(tmp_path.iterdir()) == []


def test_global_options_after_the_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'q.db'}"
    added = json_of(tmp_path, "add", "emails", "app.send", "--backend", url, "-v")
    assert json_of(tmp_path, "stats", "emails", "--backend", url)["waiting"] == 1
    # Before the command, after it, or both: the last one given wins.
    job = json_of(
        tmp_path, "--backend", "sqlite:///other.db", "job", "emails", added["id"], "--backend", url
    )
    assert job["id"] == added["id"]
    assert not (tmp_path / "other.db").exists()


def test_add_takes_args_kwargs_and_a_duration(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'q.db'}"
    argv = ["add", "emails", "app.send", "--args", '[1, "a"]', "--kwargs", '{"a": 1}']
    added = json_of(tmp_path, *argv, "--delay", "1h30m", "--backend", url)
    job = json_of(tmp_path, "job", "emails", added["id"], "--backend", url)
    assert (job["args"], job["kwargs"], job["state"]) == ([1, "a"], {"a": 1}, "delayed")
    assert job["run_at"] - job["created_at"] == pytest.approx(5400, abs=5)


@pytest.mark.parametrize("command", ["retry", "cancel", "remove", "job"])
def test_a_missing_job_is_a_failure(tmp_path: Path, command: str) -> None:
    url = f"sqlite:///{tmp_path / 'q.db'}"
    json_of(tmp_path, "add", "emails", "app.send", "--backend", url)
    done = cli(tmp_path, command, "emails", "nope", "--backend", url)
    assert done.returncode == 1
    assert done.stdout == ""
    assert error_line(done) == "asyncmq: error: no job 'nope' in queue 'emails'"


def test_json_of_a_failed_action_is_unchanged_but_the_exit_status_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'q.db'}"
    added = json_of(tmp_path, "add", "emails", "app.send", "--backend", url)
    done = cli(tmp_path, "retry", "emails", added["id"], "--json", "--backend", url)
    assert done.returncode == 1
    assert done.stdout == '{\n  "retried": false\n}\n'
    assert error_line(done) == (
        f"asyncmq: error: job '{added['id']}' is waiting; "
        "retry takes failed, expired and cancelled jobs"
    )


def test_unknown_queues_warn_and_are_not_created(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'q.db'}"
    json_of(tmp_path, "add", "emails", "app.send", "--backend", url)
    warning = (
        "asyncmq: warning: queue 'nosuch' is unknown (no jobs, repeatables, pause flag or workers)"
    )
    stats = cli(tmp_path, "stats", "nosuch", "--backend", url)
    assert (stats.returncode, stats.stderr.strip()) == (0, warning)
    assert "waiting           0" in stats.stdout
    known = cli(tmp_path, "stats", "emails", "--backend", url)
    assert (known.returncode, known.stderr) == (0, "")

    pause = cli(tmp_path, "pause", "nosuch", "--backend", url)
    assert pause.returncode == 1
    assert error_line(pause) == (
        "asyncmq: error: queue 'nosuch' is unknown (no jobs, repeatables, pause flag or "
        "workers); pause --create pauses it anyway"
    )
    for command in ("drain", "clean", "resume", "retry-failed"):
        done = cli(tmp_path, command, "nosuch", "--backend", url)
        assert done.returncode == 0, command
        assert done.stderr.strip() == f"{warning}; nothing to do"
    assert list(json_of(tmp_path, "queues", "--backend", url)) == ["emails"]

    created = cli(tmp_path, "pause", "nosuch", "--create", "--backend", url)
    assert (created.returncode, created.stdout) == (0, "paused queue nosuch\n")
    assert json_of(tmp_path, "queues", "--backend", url)["nosuch"] == {"paused": True}

"""The option values and environment fallbacks of asyncmq/cli/options.py, in-process."""

from __future__ import annotations

import argparse

import pytest

from asyncmq.cli.options import (
    add_env_flag,
    add_env_option,
    duration,
    format_duration,
    json_list,
    json_object,
    positive_int,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90.0),
        ("2.5", 2.5),
        ("90s", 90.0),
        ("500ms", 0.5),
        ("15m", 900.0),
        ("1h", 3600.0),
        ("1d", 86400.0),
        ("1h30m", 5400.0),
        (" 2H ", 7200.0),
        ("0", 0.0),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    assert duration(text) == seconds


@pytest.mark.parametrize("text", ["", "-1", "1x", "h", "1h 30m", "nan", "inf", "s1"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="invalid duration"):
        duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"), [(30.0, "30s"), (90, "1m30s"), (3600, "1h"), (0.5, "0.5s"), (0, "0s")]
)
def test_format_duration_reads_back(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert duration(text) == seconds


def test_json_arguments() -> None:
    assert json_list('[1, "a"]') == [1, "a"]
    assert json_object('{"a": 1}') == {"a": 1}
    with pytest.raises(argparse.ArgumentTypeError, match="keyword arguments go in --kwargs"):
        json_list('{"a": 1}')
    with pytest.raises(argparse.ArgumentTypeError, match="expected a JSON list"):
        json_list("1,2")
    with pytest.raises(argparse.ArgumentTypeError, match="expected a JSON object"):
        json_object("[1]")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="t")
    add_env_option(
        parser,
        "-c",
        "--concurrency",
        env="T_CONCURRENCY",
        type=positive_int,
        default=10,
        help="jobs at once",
    )
    add_env_option(
        parser, "--grace-period", env="T_GRACE", type=duration, default=30.0, help="on stop"
    )
    add_env_flag(parser, "--fail-fast", env="T_FAIL_FAST", help="exit on the first error")
    return parser


def test_env_options_fall_back_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert vars(_parser().parse_args([])) == {
        "concurrency": 10,
        "grace_period": 30.0,
        "fail_fast": False,
    }
    monkeypatch.setenv("T_CONCURRENCY", "4")
    monkeypatch.setenv("T_GRACE", "2m")
    monkeypatch.setenv("T_FAIL_FAST", "yes")
    assert vars(_parser().parse_args([])) == {
        "concurrency": 4,
        "grace_period": 120.0,
        "fail_fast": True,
    }
    given = _parser().parse_args(["-c", "7", "--grace-period", "5", "--fail-fast"])
    assert (given.concurrency, given.grace_period, given.fail_fast) == (7, 5.0, True)
    monkeypatch.setenv("T_FAIL_FAST", "0")
    assert _parser().parse_args([]).fail_fast is False


def test_env_options_show_the_variable_and_default_in_help(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("T_GRACE", "45s")
    text = " ".join(_parser().format_help().split())
    assert "jobs at once (default: 10; env T_CONCURRENCY)" in text
    assert "on stop (default: 30s; env T_GRACE, set to '45s')" in text
    assert "exit on the first error (default: off; env T_FAIL_FAST)" in text


def test_a_bad_environment_value_is_a_usage_error_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("T_CONCURRENCY", "zero")
    parser = _parser()
    with pytest.raises(SystemExit) as exits:
        parser.parse_args([])
    assert exits.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "t: error: argument -c/--concurrency: T_CONCURRENCY='zero': "
        "expected a whole number >= 1, not 'zero'"
    )
    # a value on the command line wins, so the bad variable does not matter then
    assert parser.parse_args(["-c", "3"]).concurrency == 3
    monkeypatch.setenv("T_FAIL_FAST", "maybe")
    with pytest.raises(SystemExit):
        _parser().parse_args(["-c", "3"])
    assert "T_FAIL_FAST='maybe': expected 1, true, yes, on, 0, false, no or off" in (
        capsys.readouterr().err
    )

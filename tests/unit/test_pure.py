"""The pure parts: token bucket, backoff, cron and every-ticks, the payload codec."""

from __future__ import annotations

import gc
import itertools
import math
import random
import uuid
from datetime import datetime, timezone
from typing import Any

import pytest

from asyncmq.backends.base import Repeatable
from asyncmq.backoff import Backoff
from asyncmq.builder import JobBatch, JobBuilder
from asyncmq.errors import SerializationError
from asyncmq.flow import _parents_first
from asyncmq.jobs import Job, JobError, JobState, new_job_id, new_job_ids
from asyncmq.ratelimit import RateLimit, TokenBucket
from asyncmq.scheduler import KeepJobs, latest_fire, next_fire, repeatable_key, tick_job
from asyncmq.serializers import check_arguments, check_value, dumps, loads
from asyncmq.tasks import task


def test_token_bucket_bursts_then_refills() -> None:
    bucket = TokenBucket.full(RateLimit(10, 2.0), now=0.0)
    assert bucket.take(25, 0.0) == 10
    assert bucket.take(1, 0.0) == 0
    assert bucket.next_token_at(0.0) == pytest.approx(0.2)
    assert bucket.take(5, 0.5) == 2  # 5 tokens per second
    assert bucket.take(100, 100.0) == 10  # never more than the limit
    bucket.give_back(3)
    assert bucket.tokens == 3


def test_token_bucket_zero_never_grants() -> None:
    bucket = TokenBucket.full(RateLimit(0), now=0.0)
    assert bucket.take(1, 1e9) == 0
    assert bucket.next_token_at(5.0) is None


def test_rate_limit_validates() -> None:
    with pytest.raises(ValueError):
        RateLimit(-1)
    with pytest.raises(ValueError):
        RateLimit(1, 0)


def test_backoff_fixed_exponential_cap_and_jitter() -> None:
    assert Backoff("fixed", 2.0).delay(5) == 2.0
    exp = Backoff("exponential", 1.0, cap=10.0)
    assert [exp.delay(n) for n in (1, 2, 3, 4, 5)] == [1.0, 2.0, 4.0, 8.0, 10.0]
    assert exp.delay(10_000) == 10.0
    jittered = Backoff("exponential", 4.0, cap=100.0, jitter=0.5)
    rng = random.Random(7)
    samples = [jittered.delay(1, rng) for _ in range(200)]
    assert all(2.0 <= s <= 4.0 for s in samples)
    assert max(samples) - min(samples) > 1.0
    assert Backoff.from_value(3) == Backoff("fixed", 3.0, 3.0)
    assert Backoff.from_value(exp.to_dict()) == exp
    with pytest.raises(ValueError):
        Backoff("linear")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Backoff(jitter=2)


def test_every_ticks_are_anchored_at_creation() -> None:
    rep = Repeatable("k", "q", {"task_id": "t"}, every=10.0, created_at=100.0)
    assert latest_fire(rep, 99.0) is None
    assert latest_fire(rep, 100.0) == 100.0
    assert latest_fire(rep, 129.9) == 120.0
    assert next_fire(rep, 129.9) == 130.0
    assert next_fire(rep, 50.0) == 100.0


def test_cron_ticks_in_utc_never_before_creation() -> None:
    at = datetime(2026, 1, 1, 12, 7, 30, tzinfo=timezone.utc).timestamp()
    five = datetime(2026, 1, 1, 12, 5, tzinfo=timezone.utc).timestamp()
    rep = Repeatable("k", "q", {"task_id": "t"}, cron="*/5 * * * *", created_at=five - 1)
    assert latest_fire(rep, at) == five
    assert latest_fire(rep, five) == five
    assert next_fire(rep, at) == five + 300
    late = Repeatable("k", "q", {"task_id": "t"}, cron="*/5 * * * *", created_at=at)
    assert latest_fire(late, at) is None


def test_tick_ids_are_deterministic() -> None:
    rep = Repeatable("k", "q", {"task_id": "t", "args": [1]}, every=1.0, created_at=0.0)
    assert tick_job(rep, 5.0).id == tick_job(rep, 5.0).id == "repeat:k:5000"
    assert tick_job(rep, 5.0).args == [1]
    assert repeatable_key("t", 1.0, None, [1], {}) == repeatable_key("t", 1.0, None, [1], {})
    assert repeatable_key("t", 1.0, None, [1], {}) != repeatable_key("t", 2.0, None, [1], {})


def test_keep_jobs_values() -> None:
    assert KeepJobs.from_value(None) is None
    assert KeepJobs.from_value(False) is None
    assert KeepJobs.from_value(True) == KeepJobs(count=0)
    assert KeepJobs.from_value(5) == KeepJobs(count=5)


def test_codec_refuses_what_would_not_round_trip() -> None:
    assert loads(dumps({"a": [1, 2.5, None, "é"]})) == {"a": [1, 2.5, None, "é"]}
    with pytest.raises(SerializationError, match="datetime"):
        dumps(datetime.now())
    with pytest.raises(TypeError, match="keyword argument 'x'"):
        check_arguments([], {"x": {1}})
    check_arguments([1, "a", (2, 3)], {"b": [None, {"c": 1.5}]})
    for bad in (uuid.uuid4(), JobState.WAITING, math.nan, {1: "x"}, [datetime.now()], 2**64):
        with pytest.raises(SerializationError, match="positional argument 0"):
            check_arguments([bad], {})


def test_job_payload_round_trip() -> None:
    job = Job("m.f", args=[1], kwargs={"k": 2}, priority=1, retries=3, ttl=5.0)
    job.error = JobError("E", "m", "tb")
    job.backoff = Backoff("fixed", 1.0)
    again = Job.from_dict(loads(dumps(job.to_dict())))
    assert again.to_dict() == job.to_dict()
    assert again.state is JobState.WAITING
    assert Job.from_dict({"task": "m.g"}).task_id == "m.g"
    bare = Job("m.h", args=None, kwargs=None, depends_on=None)  # type: ignore[arg-type]
    assert (bare.args, bare.kwargs, bare.depends_on) == ([], {}, [])
    assert JobState.COMPLETED.is_finished and not JobState.ACTIVE.is_finished
    assert not math.isnan(job.created_at)


def test_flow_order_puts_parents_first() -> None:
    a, b, c = (
        Job("t", id="a"),
        Job("t", id="b", depends_on=["a"]),
        Job("t", id="c", depends_on=["b", "a"]),
    )
    assert [j.id for j in _parents_first([c, b, a])] == ["a", "b", "c"]


def test_error_labels_name_the_nested_value() -> None:
    with pytest.raises(SerializationError, match=r"keyword argument 'opts'\['a'\]\[1\] "):
        check_arguments([], {"opts": {"a": [1, math.inf]}})
    with pytest.raises(SerializationError, match=r"positional argument 2\[0\] .*key 3"):
        check_arguments([1, 2, [{3: 4}]], {})
    with pytest.raises(SerializationError, match=r"^the result\['x'\] cannot"):
        check_value({"x": {1, 2}}, "the result")


def test_job_ids_are_unique_hex_consecutive_within_a_call() -> None:
    ids = new_job_ids(1000)
    assert len(set(ids)) == 1000
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    # one call's ids sit side by side in an index; two calls start at random places
    numbers = [int(i, 16) for i in ids]
    assert all(b - a == 1 for a, b in itertools.pairwise(numbers)) or 0 in numbers
    assert not set(new_job_ids(1000)) & set(ids)
    assert new_job_id() not in ids
    assert Job("m.f").id != Job("m.f").id


def test_builder_applies_task_defaults_once_per_task() -> None:
    @task(queue="q", retries=2, ttl=9.0, priority=1, timeout=3.0, backoff=1.5)
    async def slow() -> None: ...

    builder = JobBuilder("q", 100.0, expected=2)
    first = builder.build(slow, [1])
    second = builder.build(slow.id, priority=0, retries=0, delay=5)
    assert (first.priority, first.retries, first.ttl, first.timeout) == (1, 2, 9.0, 3.0)
    assert first.backoff == Backoff("fixed", 1.5, 1.5)
    assert (second.priority, second.retries, second.run_at) == (0, 0, 105.0)
    assert first.created_at == second.created_at == 100.0
    third = builder.build("not.registered.here")  # more jobs than expected: still new ids
    assert (third.priority, third.retries, third.ttl) == (5, 0, None)
    assert len({first.id, second.id, third.id}) == 3
    with pytest.raises(ValueError, match=r"add_bulk\(\) job 7 has no 'task_id'"):
        builder.build_from({"args": [1]}, caller="add_bulk", index=7)
    with pytest.raises(TypeError, match=r"add_flow\(\) job 2 has unknown options: dealy, tll"):
        builder.build_from({"task": "m.f", "tll": 1, "dealy": 2}, caller="add_flow", index=2)
    spec = {"task": slow, "args": [2], "delay": 1, "job_id": "j", "depends_on": ["a", "a"]}
    from_spec = builder.build_from(spec, caller="add_bulk", index=0)
    assert (from_spec.task_id, from_spec.args, from_spec.id) == (slow.id, [2], "j")
    assert (from_spec.run_at, from_spec.depends_on, from_spec.retries) == (101.0, ["a"], 2)


def test_build_many_pauses_the_collector_and_puts_it_back() -> None:
    seen: list[bool] = []

    @task(queue="q")
    async def probe() -> None: ...

    class Spy(dict[str, Any]):
        def get(self, key: str, default: Any = None) -> Any:
            seen.append(gc.isenabled())
            return super().get(key, default)

    builder = JobBuilder("q", 1.0, expected=2)
    assert gc.isenabled()
    jobs = builder.build_many([Spy(task_id=probe.id), Spy(task_id=probe.id)], caller="add_bulk")
    assert [j.task_id for j in jobs] == [probe.id] * 2
    assert seen and not any(seen) and gc.isenabled()
    with pytest.raises(ValueError, match="job 1 has no 'task_id'"):
        builder.build_many([{"task_id": probe.id}, {"args": []}], caller="add_bulk")
    assert gc.isenabled()
    gc.disable()  # an application's own choice is left alone
    try:
        builder.build_many([{"task_id": probe.id}], caller="add_bulk")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_job_batch_builds_on_read_in_steps_and_keeps_what_it_built() -> None:
    builder = JobBuilder("q", 1.0, expected=250)
    specs: list[dict[str, Any]] = [{"task_id": "m.f", "args": [i]} for i in range(250)]
    batch = JobBatch(builder, specs, caller="add_bulk")
    assert len(batch) == 250 and batch._built == []
    assert batch[3].args == [3] and len(batch._built) == 4
    assert [j.args for j in batch[5:7]] == [[5], [6]] and len(batch._built) == 7
    assert [j.args for j in JobBatch(builder, specs[:5], caller="x")[::-2]] == [[4], [2], [0]]
    assert batch[-1].args == [249] and len(batch._built) == 250
    again = list(batch)
    assert again == list(batch) and [j.args[0] for j in again] == list(range(250))
    assert len({j.id for j in again}) == 250

    specs[180]["args"] = [float("nan")]
    lazy = JobBatch(JobBuilder("q", 1.0, expected=250), specs, caller="add_bulk")
    read = []
    with pytest.raises(SerializationError, match=r"^add_bulk\(\) job 180: positional argument 0"):
        for j in lazy:
            read.append(j)
    assert len(read) == 100  # the steps before the bad one were read; nothing past it built
    assert len(lazy._built) == 100


def test_builder_puts_each_option_in_its_own_field() -> None:
    built = JobBuilder("q", 100.0).build(
        "m.f",
        [1],
        {"k": 2},
        delay=3.0,
        priority=4,
        retries=5,
        ttl=6.0,
        backoff=7.0,
        timeout=8.0,
        job_id="j",
        depends_on=["d"],
    )
    expected = Job(
        task_id="m.f",
        args=[1],
        kwargs={"k": 2},
        id="j",
        queue="q",
        priority=4,
        retries=5,
        backoff=Backoff.from_value(7.0),
        ttl=6.0,
        timeout=8.0,
        depends_on=["d"],
        created_at=100.0,
        run_at=103.0,
    )
    assert vars(built) == vars(expected)

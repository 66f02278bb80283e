"""The inline driver (``sync://``) needs no server.

It is the in-memory store with a runner: ``enqueue`` runs every runnable job before it returns.
Tests built on a job waiting to be claimed, on a delayed job waiting for its time, or on a
worker's own behaviour have a premise the driver changes by design; ``PREMISE_CHANGED`` skips
them here, by ``"<module file>::<test>"``, with the reason (``tests/conftest.py`` reads it).
What the driver does instead is tested in ``tests/integration/test_inline.py``.
"""

from __future__ import annotations

from pathlib import Path

from asyncmq.backends.base import BaseBackend
from asyncmq.backends.inline import InlineBackend

_WAITS = "inline runs every runnable job in enqueue; the test needs one left waiting for a claim"
_DELAYS = "inline runs delayed jobs and retries at once; the test needs one waiting for its run_at"
_WORKER = "inline runs jobs in add(), one at a time, unthrottled; the test is about the worker"

PREMISE_CHANGED: dict[str, str] = {
    **dict.fromkeys(
        (
            f"test_admin.py::test_{name}"
            for name in (
                "list_jobs_pages",
                "finished_jobs_list_newest_first",
                "cancel_an_unstarted_job",
                "cancel_a_running_job_fences_its_worker",
                "retry_job_reruns_a_failed_job",
                "remove_deletes_and_cascades",
                "clean_by_age_and_by_count",
                "drain_removes_unstarted_jobs",
                "obliterate_removes_everything",
            )
        ),
        _WAITS,
    ),
    **dict.fromkeys(
        (
            f"test_claim.py::test_{name}"
            for name in (
                "claim_orders_by_priority_then_fifo",
                "claim_sets_the_lease",
                "paused_queue_gives_nothing",
                "ttl_passed_expires_instead_of_running",
                "rate_limit_is_a_token_bucket",
                "rate_limit_zero_blocks",
                "concurrent_claimers_never_share_a_job",
            )
        ),
        _WAITS,
    ),
    **dict.fromkeys(
        (
            f"test_enqueue.py::test_{name}"
            for name in (
                "enqueue_stores_the_producer_fields",
                "backend_kept_fields_start_fresh",
                "enqueue_is_idempotent_by_id",
                "unmet_dependencies_wait_for_children",
                "completed_dependency_counts_as_met",
                "failed_dependency_fails_a_new_dependent",
                "enqueue_stores_hard_timeout_and_context",
                "hard_timeout_and_context_default_to_none_and_empty",
                "a_batch_stores_hard_timeout_and_context",
                "a_batch_with_dependencies_stores_hard_timeout_and_context",
            )
        ),
        _WAITS,
    ),
    "test_enqueue.py::test_future_run_at_lands_delayed": _DELAYS,
    "test_scanner.py::test_promote_due_moves_due_jobs": _DELAYS,
    "test_scanner.py::test_delayed_jobs_are_listed_by_run_at": _DELAYS,
    **dict.fromkeys(
        (
            f"test_scanner.py::test_{name}"
            for name in (
                "killed_workers_jobs_come_back",
                "too_many_stalls_fail_the_job",
                "maintain_is_safe_at_any_time",
            )
        ),
        _WAITS,
    ),
    **dict.fromkeys(
        (
            f"test_settle.py::test_{name}"
            for name in (
                "complete_stores_the_result",
                "stale_token_settles_change_nothing",
                "a_job_is_settled_once",
                "complete_in_batches",
                "extend_lease_moves_the_deadline",
                "progress_is_stored",
                "retry_goes_back_waiting_or_delayed",
                "fail_keeps_the_error",
                "dependents_are_released_when_all_complete",
                "concurrent_completions_release_a_dependent_once",
                "failure_cascades_to_dependents",
            )
        ),
        _WAITS,
    ),
    **dict.fromkeys(
        (
            f"test_wait_for_jobs.py::test_{name}"
            for name in (
                "released_dependents_and_retries_wake_workers",
                "wait_and_claim_gets_the_job_to_this_worker",
                "a_cancelled_wait_and_claim_leaves_nothing_claimed",
            )
        ),
        _WAITS,
    ),
    # Integration tests of Queue.run() that take the `backend` fixture.
    "test_queue_basics.py::test_task_enqueue_returns_the_id": _DELAYS,
    "test_queue_basics.py::test_delay_holds_a_job_back": _DELAYS,
    "test_queue_basics.py::test_retries_with_backoff_then_success": _DELAYS,
    "test_queue_basics.py::test_exhausted_retries_fail_with_the_error": _WAITS,
    "test_queue_basics.py::test_a_bad_job_in_a_bulk_call_stores_none_of_it": _WAITS,
    "test_queue_basics.py::test_concurrency_bounds_parallel_jobs": _WORKER,
    "test_queue_basics.py::test_progress_is_visible_while_running": _WORKER,
    "test_queue_lifecycle.py::test_cancel_a_running_job": _WORKER,
    "test_queue_lifecycle.py::test_dependencies_run_in_order": _DELAYS,
    "test_queue_lifecycle.py::test_flow_producer_adds_a_graph": _WAITS,
    "test_queue_lifecycle.py::test_a_dead_workers_job_is_recovered": _WAITS,
    "test_queue_lifecycle.py::test_graceful_stop_finishes_running_jobs": _WORKER,
    "test_queue_lifecycle.py::test_stop_hands_back_what_outlives_the_grace": _WORKER,
    "test_queue_scheduling.py::test_rate_limit_caps_starts": _WORKER,
    "test_queue_scheduling.py::test_rate_limit_zero_blocks": _WORKER,
    "test_queue_scheduling.py::test_admin_calls": _DELAYS,
    "test_call_forms.py::test_a_jobs_own_context_changes_do_not_leak": _WORKER,
}


def start(workdir: Path) -> str:
    return "sync://"


def stop() -> None:
    pass


def build(url: str, test_id: str) -> BaseBackend:
    return InlineBackend()

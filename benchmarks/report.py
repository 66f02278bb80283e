"""The markdown table of a results JSON file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BEGIN = "<!-- results:begin -->"
END = "<!-- results:end -->"

COLUMNS = [
    ("add 1x1/s", "add_one"),
    ("add conc/s", "add_concurrent"),
    ("add bulk/s", "add_bulk"),
    ("process/s", "process"),
    ("drain/s", "drain"),
    ("p50 ms", "latency_p50_ms"),
    ("p99 ms", "latency_p99_ms"),
    ("CPU s/10k", "cpu_s_per_10k"),
    ("peak MB", "peak_rss_mb"),
    ("best process/s", "best_process"),
    ("best CPU s/10k", "best_cpu_s_per_10k"),
]


def _cell(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, dict):
        value = value["median"]
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def table(results: dict[str, Any]) -> str:
    """Main table (one row per target), then scaling, history and failures."""
    rows = results["targets"]
    head = ["target", "store", "version", "workers", *(c for c, _ in COLUMNS)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    failures = []
    for row in rows:
        figures = row.get("figures", {})
        settings = f"{row['baseline']} / best {row['best']}"
        cells = [row["target"], row["store"], row.get("version", "?"), settings]
        if row["status"] != "ok":
            word = "skipped" if row["status"].startswith("skipped") else "failed"
            cells += [word] + [""] * (len(COLUMNS) - 1)
            failures.append(f"- **{row['target']}**: {row['status']}")
        else:
            cells += [_cell(figures[key]) if key in figures else "-" for _, key in COLUMNS]
        jobs = figures.get("jobs_per_figure")
        if jobs and jobs < results["options"].get("jobs", jobs):
            failures.append(f"- {row['target']}: {jobs:,} jobs per figure (slower than --budget)")
        for step, error in row.get("errors", {}).items():
            failures.append(f"- {row['target']} ({step}): {error}")
        lines.append("| " + " | ".join(cells) + " |")
    extra = _extra(rows)
    if extra:
        lines += ["", *extra]
    if failures:
        lines += ["", "Failures, missing figures and notes:", "", *failures]
    return "\n".join(lines) + "\n"


def _extra(rows: list[dict[str, Any]]) -> list[str]:
    keys = sorted(
        {k for r in rows for k in r.get("figures", {}) if k.startswith(("process_",))},
        key=lambda k: (not k.endswith("procs"), len(k), k),
    )
    if not keys:
        return []
    head = ["target", *(k.removeprefix("process_") for k in keys)]
    out = [
        "Scaling (process/s with N worker processes of concurrency 10; "
        "process/s after N finished jobs stored):",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for row in rows:
        figures = row.get("figures", {})
        if any(k in figures for k in keys):
            cells = [_cell(figures[k]) if k in figures else "-" for k in keys]
            out.append("| " + " | ".join([row["target"], *cells]) + " |")
    return out


def merge(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The first run, amended by later ones: a later full row replaces a target's row, and an
    --extra-only run adds its scaling and history figures."""
    merged: dict[str, Any] = json.loads(json.dumps(runs[0]))
    rows = {row["target"]: row for row in merged["targets"]}
    for run in runs[1:]:
        merged.setdefault("extra_runs", []).append(
            {"started": run["started"], "commit": run.get("commit", "?"), "options": run["options"]}
        )
        extra_only = run["options"].get("extra_only", False)
        for row in run["targets"]:
            if not extra_only and row["target"] in rows:
                index = merged["targets"].index(rows[row["target"]])
                merged["targets"][index] = rows[row["target"]] = row
                continue
            if row["target"] not in rows:
                merged["targets"].append(row)
                rows[row["target"]] = row
                continue
            into = rows[row["target"]]
            into.setdefault("figures", {}).update(
                {k: v for k, v in row.get("figures", {}).items() if k != "jobs_per_figure"}
            )
            into.setdefault("errors", {}).update(row.get("errors", {}))
    return merged


def publish(results: dict[str, Any], json_path: Path, readme: Path) -> None:
    """Copy `results` to `json_path`; put its table between the README's result markers."""
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    text = readme.read_text()
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    commit = results.get("commit", "?")
    options = json.dumps(results["options"])
    when = f"Run started {results['started']} (commit {commit}); options: `{options}`."
    for extra in results.get("extra_runs", []):
        when += (
            f"\nAmended by the run of {extra['started']} (commit {extra['commit']}): "
            f"`{json.dumps(extra['options'])}`."
        )
    readme.write_text(f"{head}{BEGIN}\n{when}\n\n{table(results)}{END}{tail}")

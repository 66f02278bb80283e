"""The markdown table of a results JSON file."""

from __future__ import annotations

from typing import Any

COLUMNS = [
    ("add 1×1/s", "add_one"),
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
            cells += ["failed"] + [""] * (len(COLUMNS) - 1)
            failures.append(f"- **{row['target']}**: {row['status']}")
        else:
            cells += [_cell(figures[key]) if key in figures else "–" for _, key in COLUMNS]
        for step, error in row.get("errors", {}).items():
            failures.append(f"- {row['target']} ({step}): {error}")
        lines.append("| " + " | ".join(cells) + " |")
    extra = _extra(rows)
    if extra:
        lines += ["", *extra]
    if failures:
        lines += ["", "Failures and missing figures:", "", *failures]
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
            cells = [_cell(figures[k]) if k in figures else "–" for k in keys]
            out.append("| " + " | ".join([row["target"], *cells]) + " |")
    return out

"""Review stats (times, counts, GitHub calls, model usage and cost, prompt version) as labelled rows.

`Review.stats` is an open dict filled by whoever ran the review; nested dicts are flattened
(`model.input_tokens`), known keys get a readable label, the rest keep their own name.
"""

from __future__ import annotations

from typing import Any

MAX_ROWS = 60
PLAIN_PREFIXES = {"model", "llm", "specialist", "usage"}  # their keys read fine without the prefix
LABELS = {
    "seconds": "Review time (s)",
    "duration_s": "Review time (s)",
    "analyzer_seconds": "Analyzer time (s)",
    "files": "Files changed",
    "files_changed": "Files changed",
    "lines_changed": "Changed lines",
    "analysis_seconds": "Analyzer time (s)",
    "base": "Base commit",
    "head": "Head commit",
    "head_sha": "Head commit",
    "trigger": "Trigger",
    "delivery": "Delivery",
    "mode": "Mode",
    "cache_write_tokens": "Cache-write tokens",
    "files_reviewed": "Files reviewed",
    "files_skipped": "Files skipped",
    "changed_lines": "Changed lines",
    "findings": "Findings",
    "pre_existing": "Findings already at base",
    "github_calls": "GitHub API calls",
    "model": "Model",
    "prompt_version": "Prompt version",
    "input_tokens": "Input tokens",
    "output_tokens": "Output tokens",
    "cache_read_tokens": "Cache-read tokens",
    "cost_usd": "Model cost (USD)",
    "turns": "Model turns",
    "model_requests": "Model requests",
    "stop_reason": "Specialist stopped by",
    "complete": "Specialist finished",
    "scope": "Specialist scope",
    "since": "Reviewed since",
    "carried": "Findings carried forward",
    "dropped": "Findings dropped by validation",
}
FULL_KEY_LABELS = {"specialist.findings": "Specialist findings", "specialist.degraded": "Specialist degraded",
                   "specialist.confirmed": "Low-confidence findings confirmed by the specialist",
                   "specialist.dismissed": "Low-confidence findings dismissed by the specialist"}


def _label(key: str) -> str:
    if key in FULL_KEY_LABELS:
        return FULL_KEY_LABELS[key]
    prefix, _, last = key.rpartition(".")
    if last in LABELS:
        label = LABELS[last]
        return label if not prefix or prefix in PLAIN_PREFIXES else f"{label} ({prefix.replace('_', ' ')})"
    return key.replace(".", " · ").replace("_", " ")


def _value(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if key.endswith("cost_usd"):
            return f"${value:,.4f}"
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list | tuple | set):
        return ", ".join(str(v) for v in value)
    return str(value)


def _flatten(stats: dict[str, Any], prefix: str, out: list[tuple[str, Any]], depth: int) -> None:
    for key, value in stats.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and depth < 3:
            _flatten(value, name + ".", out, depth + 1)
        else:
            out.append((name, value))


def stats_rows(stats: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, formatted value) pairs, at most MAX_ROWS of them, in the dict's own order."""
    flat: list[tuple[str, Any]] = []
    _flatten(stats, "", flat, 0)
    return [(_label(k), _value(k, v)) for k, v in flat if v is not None][:MAX_ROWS]

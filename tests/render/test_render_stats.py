"""Review stats as labelled rows: readable labels, nested specialist figures, no empty values."""

from __future__ import annotations

from bot.render.stats import MAX_ROWS, stats_rows
from bot.specialist.outcome import SpecialistResult


def test_the_specialists_figures_read_as_labelled_rows_without_empty_ones() -> None:
    result = SpecialistResult(model="claude-sonnet-4-6", prompts={"system": "s@1", "task": "t@2"}, turns=3,
                              complete=True, stop_reason="finished", since="a" * 40, carried=2)
    rows = dict(stats_rows({"findings": 5, "head_sha": "b" * 40, **result.stats()}))
    assert rows["Findings"] == "5" and rows["Specialist findings"] == "0"  # the total and the model's own
    assert rows["Prompt version"] == "s@1, t@2" and rows["Model turns"] == "3"
    assert rows["Specialist scope"] == "incremental" and rows["Reviewed since"] == "a" * 40
    assert rows["Findings carried forward"] == "2" and rows["Head commit"] == "b" * 40
    assert rows["Model cost (USD)"] == "$0.0000"
    assert "Specialist degraded" not in rows  # None: nothing to say


def test_rows_are_capped() -> None:
    assert len(stats_rows({f"k{i}": i for i in range(MAX_ROWS + 40)})) == MAX_ROWS

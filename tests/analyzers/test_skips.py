"""Honest coverage: the sentence that names the files no analyzer read."""

from __future__ import annotations

from bot.analyzers.skips import incomplete_reason
from bot.core.model import CoverageStatus, FileCoverage


def test_incomplete_reason_names_at_most_five_files_and_counts_the_rest() -> None:
    cov = [FileCoverage(path=f"a{i}.py", status=CoverageStatus.skipped, reason="r", incomplete=True) for i in range(7)]
    cov.append(FileCoverage(path="ok.py", status=CoverageStatus.reviewed))
    text = incomplete_reason(cov) or ""
    assert text.startswith("7 file(s)") and "a4.py (r)" in text and "a5.py" not in text and text.endswith("2 more")
    assert incomplete_reason(cov[-1:]) is None

"""Differential review: a head finding with an equivalent at base is pre-existing, never introduced."""

from __future__ import annotations

from pathlib import Path

from bot.analyzers.astgrep import AstGrepAnalyzer
from bot.analyzers.base import FileInput
from bot.analyzers.engine import AnalysisResult, analyze_change
from bot.analyzers.matching import map_base_line, split_introduced, whole_file_change
from bot.core.diff import parse_diff
from bot.core.model import Category, Finding, Severity
from bot.core.repo import LocalGitRepo
from bot.core.repo_config import RepoConfig
from bot.review.pipeline import builtin_analyzers
from tests.support.gitrepo import GitRepo

RULE = "py-requests-no-timeout"
CALL = "def fetch(url, h):\n    return requests.post(\n        url,\n        json={},\n    )\n"
CALL_WITH_KEYWORD = CALL.replace("        json={},\n", "        json={},\n        headers=h,\n")
CALL_WITH_TIMEOUT = CALL.replace("        url,\n", "        url,\n        timeout=10,\n")
FILLER = "".join(f"def f{i}():\n    return {i}\n\n\n" for i in range(6))


def _review(tmp_path: Path, before: dict[str, str], after: dict[str, str], *, base_side: bool = True,
            remove: tuple[str, ...] = ()) -> AnalysisResult:
    repo = GitRepo(tmp_path / "r")
    for path, text in before.items():
        repo.write(path, text)
    base = repo.commit("base")
    for path, text in after.items():
        repo.write(path, text)
    for path in remove:
        repo.remove(path)
    head = repo.commit("head")
    changes = parse_diff(repo.git("diff", "-M", base, head))
    base_repo = LocalGitRepo(str(repo.root), base) if base_side else None
    return analyze_change(changes, LocalGitRepo(str(repo.root), head), RepoConfig(), builtin_analyzers(),
                          base_repo=base_repo)


def _rules(findings: list[Finding]) -> list[str]:
    return [f.source for f in findings]


def test_an_old_multiline_call_that_gains_one_keyword_inherits_nothing(tmp_path: Path) -> None:
    result = _review(tmp_path, {"app/api.py": "import requests\n\n\n" + CALL},
                     {"app/api.py": "import requests\n\n\n" + CALL_WITH_KEYWORD})
    assert RULE not in _rules(result.findings)
    assert RULE in _rules(result.pre_existing)


def test_without_the_base_side_the_same_change_is_blamed(tmp_path: Path) -> None:
    result = _review(tmp_path, {"app/api.py": "import requests\n\n\n" + CALL},
                     {"app/api.py": "import requests\n\n\n" + CALL_WITH_KEYWORD}, base_side=False)
    assert RULE in _rules(result.findings) and not result.pre_existing


def test_a_pure_deletion_is_analysed_and_can_introduce_a_problem(tmp_path: Path) -> None:
    result = _review(tmp_path, {"app/api.py": "import requests\n\n\n" + CALL_WITH_TIMEOUT},
                     {"app/api.py": "import requests\n\n\n" + CALL})
    assert RULE in _rules(result.findings)
    [coverage] = result.coverage
    assert coverage.status == "reviewed"


def test_a_moved_statement_is_pre_existing(tmp_path: Path) -> None:
    before = "import requests\n\n\n" + FILLER + CALL
    after = "import requests\n\n\n" + CALL + "\n\n" + FILLER
    result = _review(tmp_path, {"app/api.py": before}, {"app/api.py": after})
    assert RULE not in _rules(result.findings)
    assert RULE in _rules(result.pre_existing)


def test_a_pasted_second_copy_of_an_old_problem_is_introduced_once(tmp_path: Path) -> None:
    second = CALL.replace("fetch", "fetch_again")
    result = _review(tmp_path, {"app/api.py": "import requests\n\n\n" + CALL},
                     {"app/api.py": "import requests\n\n\n" + CALL + "\n\n" + second})
    assert _rules(result.findings) == [RULE] and result.findings[0].start_line > 8
    assert not result.pre_existing  # the old call is not touched by the change: not reported at all


def test_a_renamed_file_is_compared_with_its_old_path(tmp_path: Path) -> None:
    result = _review(tmp_path, {"old/api.py": "import requests\n\n\n" + CALL},
                     {"new/api.py": "import requests\n\n\n" + CALL_WITH_KEYWORD}, remove=("old/api.py",))
    assert RULE not in _rules(result.findings) and RULE in _rules(result.pre_existing)


def test_an_added_file_has_nothing_at_base(tmp_path: Path) -> None:
    result = _review(tmp_path, {"README.md": "x\n"}, {"app/api.py": "import requests\n\n\n" + CALL})
    assert RULE in _rules(result.findings) and not result.pre_existing


def _diff(before: str, after: str, tmp_path: Path) -> str:
    repo = GitRepo(tmp_path / "d")
    repo.write("f.txt", before)
    base = repo.commit()
    repo.write("f.txt", after)
    head = repo.commit()
    return repo.git("diff", base, head)


def test_base_lines_map_through_the_diff(tmp_path: Path) -> None:
    before = "".join(f"line {i}\n" for i in range(1, 21))
    after = before.replace("line 3\n", "").replace("line 10\n", "line 10\nnew a\nnew b\n")
    change = parse_diff(_diff(before, after, tmp_path)).files[0]
    assert map_base_line(change, 1) == (1, 1)
    assert map_base_line(change, 5) == (4, 4)  # one line removed above
    assert map_base_line(change, 20) == (21, 21)  # net +1 below both hunks
    lo, hi = map_base_line(change, 3)  # removed: the span it was cut from
    assert lo <= 2 <= hi or lo <= 3 <= hi


def _finding(source: str, start: int, end: int) -> Finding:
    return Finding(id=f"SR-{source}-{start}", category=Category.missing_timeout, severity=Severity.high, path="f.py",
                   start_line=start, end_line=end, title="t", evidence="e", risk="r", rollback="", monitoring="",
                   source=source)


def test_another_rule_at_the_same_place_does_not_count_as_an_equivalent() -> None:
    text = "a = 1\nb = call()\n"
    change = whole_file_change("f.py", text)
    new, old = split_introduced([_finding("rule-b", 2, 2)], [_finding("rule-a", 2, 2)], change, text, text)
    assert [f.source for f in new] == ["rule-b"] and not old


def test_whole_file_change_shows_every_line() -> None:
    change = whole_file_change("f.py", "a\nb\nc")
    assert change.touches(3, 3) and change.can_comment(1) and change.additions == 3
    assert not whole_file_change("f.py", "").hunks


def test_the_head_run_reports_the_untouched_matches_a_whole_file_run_of_the_fired_rules_would(tmp_path: Path) -> None:
    """The engine takes a file's untouched matches (which claim their base twins first) from the head run itself
    instead of running the fired rules over the whole head file a second time: the same findings either way."""
    old = "import requests\nimport time\n\n\n" + CALL + "\n\nasync def wait():\n    time.sleep(1)\n"
    new = old + "\n\n" + CALL.replace("fetch", "fetch_again")
    repo = GitRepo(tmp_path / "r")
    repo.write("app/api.py", old)
    base = repo.commit("base")
    repo.write("app/api.py", new)
    head = repo.commit("head")
    [change] = parse_diff(repo.git("diff", base, head)).files
    analyzer = AstGrepAnalyzer.load_builtin()

    touched, untouched = analyzer.analyze_split(FileInput(change, new, old))

    assert touched == analyzer.analyze(FileInput(change, new, old))
    whole = analyzer.narrowed(frozenset(f.source for f in touched)).analyze(
        FileInput(whole_file_change("app/api.py", new), new, old))
    assert [f.id for f in untouched] == [f.id for f in whole if not change.touches(f.start_line, f.end_line)]
    assert _rules(untouched) == [RULE]  # the old call; not the old `time.sleep`: its rule did not fire


MODEL = "class Offence < ApplicationRecord\n  has_many :fee_schemes\nend\n"
SERVICE = '''\
class Cleaner
  def remove_redundant
    offences = Offence.all
    offences.each do |offence|
      if offence.fee_schemes.empty?
        puts "removing #{offence.code}".red
        offence.destroy
      end
    end
  end
end
'''


def test_an_old_n_plus_one_placed_on_another_touched_line_is_still_pre_existing(tmp_path: Path) -> None:
    # the change only rewrites a print inside the loop: the finding may sit on the touched read at head and on
    # the query at base; its evidence names the same chain and read, so it is the old problem
    after = SERVICE.replace('puts "removing #{offence.code}".red', 'puts Rainbow("removing #{offence.code}").red')
    result = _review(tmp_path, {"app/models/offence.rb": MODEL, "app/services/cleaner.rb": SERVICE},
                     {"app/services/cleaner.rb": after})
    assert "rb-association-per-record" not in _rules(result.findings)
    assert "rb-association-per-record" in _rules(result.pre_existing)
    # and a new loop with the same read, added by the change, is introduced
    added = after.replace("  end\nend\n", "  end\n\n  def again\n    Offence.all.each { |o| o.fee_schemes.empty? }\n"
                                          "  end\nend\n")
    again = _review(tmp_path / "2", {"app/models/offence.rb": MODEL, "app/services/cleaner.rb": SERVICE},
                    {"app/services/cleaner.rb": added})
    assert "rb-association-per-record" in _rules(again.findings)


def _sure(source: str, start: int, end: int, confidence: float) -> Finding:
    return _finding(source, start, end).model_copy(update={"confidence": confidence})


def test_an_edit_that_lifts_a_weak_finding_over_the_gate_introduces_it(tmp_path: Path) -> None:
    before = "def f(o):\n    return len(o.items.all())\n"
    after = "def f(o):\n    return Item.objects.filter(owner=o).count()\n"
    change = parse_diff(_diff(before, after, tmp_path)).files[0]
    new, old = split_introduced([_sure("rule-a", 2, 2, 0.9)], [_sure("rule-a", 2, 2, 0.6)], change, after, before)
    assert [f.confidence for f in new] == [0.9] and not old


def test_an_edit_that_keeps_a_finding_as_sure_inherits_it(tmp_path: Path) -> None:
    before = "def f(o):\n    return Item.objects.filter(owner=o).count()\n"
    after = "def f(o):\n    return Item.objects.filter(owner=o, live=True).count()\n"
    change = parse_diff(_diff(before, after, tmp_path)).files[0]
    new, old = split_introduced([_sure("rule-a", 2, 2, 0.9)], [_sure("rule-a", 2, 2, 0.9)], change, after, before)
    assert not new and len(old) == 1

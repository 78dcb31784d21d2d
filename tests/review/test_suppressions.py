"""Memory across pull requests and `ignore:`: what a repository decided keeps findings from being raised again."""

from __future__ import annotations

from bot.core.model import Category, Finding, Severity
from bot.core.repo_config import load_repo_config
from bot.review.suppressions import MUTE_AFTER, MemoryEntry, RepoMemory, apply_memory, code_fingerprint

CODE = "import requests\n\n\ndef fetch(url):\n    return requests.get(url).json()\n"
RULE = "py-requests-no-timeout"


def finding(fid="SR-aaaaaaaaaa", rule=RULE, path="app/x.py", line=5, confidence=0.9):
    return Finding(id=fid, category=Category.missing_timeout, severity=Severity.high, path=path, start_line=line,
                   end_line=line, title="t", evidence="e", risk="r", rollback="b", monitoring="m",
                   confidence=confidence, source=rule)


def entry(kind="dismiss", fp="MF-1", pr=1, rule=RULE, n=0):
    return MemoryEntry(id=n, repo="o/r", rule=rule, fingerprint=fp, finding_id="SR-aaaaaaaaaa", kind=kind,
                       by="maintainer", reason="capped upstream", pr=pr, comment_id=n, created_at=float(n))


def test_the_fingerprint_survives_lines_moving_but_not_the_code_changing_function():
    fp = code_fingerprint(RULE, "app/x.py", CODE, 5, 5)
    moved = "# a comment\n\n" + CODE.replace("import requests", "import requests\nimport json")
    assert code_fingerprint(RULE, "app/x.py", moved, 8, 8) == fp
    assert code_fingerprint(RULE, "app/x.py", CODE.replace("def fetch", "def fetch_all"), 5, 5) != fp
    assert code_fingerprint(RULE, "app/y.py", CODE, 5, 5) != fp  # another path
    assert code_fingerprint("other-rule", "app/x.py", CODE, 5, 5) != fp
    assert code_fingerprint(RULE, "app/x.py", CODE.replace(".json()", ".text"), 5, 5) != fp  # another statement


def test_a_remembered_dismissal_is_not_raised_and_the_summary_counts_it():
    config, _ = load_repo_config(None)
    memory = RepoMemory(entries=[entry(fp="MF-1", pr=3)], fingerprints={"SR-aaaaaaaaaa": "MF-1"})
    out = apply_memory([finding(), finding("SR-bbbbbbbbbb")], config, memory, pr=9)
    assert [f.id for f in out.findings] == ["SR-bbbbbbbbbb"]
    assert out.stats["memory_suppressed"] == 1
    assert "1 finding(s) not raised again" in out.notes[0] and "maintainer on #3: capped upstream" in out.notes[0]


def test_an_accepted_risk_on_the_same_pr_shows_as_accepted_and_elsewhere_is_not_raised():
    config, _ = load_repo_config(None)
    memory = RepoMemory(entries=[entry(kind="accept", fp="MF-1", pr=9)], fingerprints={"SR-aaaaaaaaaa": "MF-1"})
    same = apply_memory([finding()], config, memory, pr=9)
    assert [f.id for f in same.findings] == ["SR-aaaaaaaaaa"] and same.accepted[0].by == "maintainer"
    assert apply_memory([finding()], config, memory, pr=10).findings == []


def test_revoked_entries_count_for_nothing():
    config, _ = load_repo_config(None)
    gone = entry().model_copy(update={"revoked": True})
    out = apply_memory([finding()], config, RepoMemory(entries=[gone], fingerprints={"SR-aaaaaaaaaa": "MF-1"}))
    assert len(out.findings) == 1


def test_a_rule_dismissed_three_times_cannot_fail_the_gate_until_the_config_re_enables_it():
    config, _ = load_repo_config(None)
    entries = [entry(fp=f"MF-{i}", n=i) for i in range(MUTE_AFTER)]
    out = apply_memory([finding(confidence=0.95)], config, RepoMemory(entries=entries), pr=9)
    [f] = out.findings
    assert f.confidence < config.gate.min_confidence
    assert any(f"dismissed as a false positive {MUTE_AFTER} times" in n and "cannot fail the check" in n
               for n in out.notes)
    fewer = apply_memory([finding(confidence=0.95)], config, RepoMemory(entries=entries[:-1]), pr=9)
    assert fewer.findings[0].confidence == 0.95
    on, _ = load_repo_config(f"rules:\n  {RULE}: on\n")
    again = apply_memory([finding(confidence=0.95)], on, RepoMemory(entries=entries), pr=9)
    assert again.findings[0].confidence == 0.95 and not again.notes


def test_ignore_in_the_config_keeps_matching_findings_out():
    config, errors = load_repo_config(f"ignore:\n  - rule: {RULE}\n    path: 'app/**'\n    reason: internal\n")
    assert errors == []
    out = apply_memory([finding(), finding("SR-cccccccccc", path="lib/x.py")], config)
    assert [f.path for f in out.findings] == ["lib/x.py"] and out.stats["config_ignored"] == 1
    bad, errors = load_repo_config("ignore:\n  - {path: 'app/**'}\n")
    assert bad.ignore == [] and "ignore" in errors[0]


def test_dismissed_specialist_findings_mute_only_their_own_category():
    config, _ = load_repo_config(None)
    entries = [entry(fp=f"MF-{i}", n=i, rule="specialist:missing_timeout") for i in range(MUTE_AFTER)]
    timeout = finding(rule="specialist", confidence=0.95)
    other = finding("SR-dddddddddd", rule="specialist", confidence=0.95).model_copy(
        update={"category": Category.n_plus_one})
    out = apply_memory([timeout, other], config, RepoMemory(entries=entries))
    assert [f.confidence < 0.8 for f in out.findings] == [True, False]

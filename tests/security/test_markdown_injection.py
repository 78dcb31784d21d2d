"""Issue 14 item 3: text copied from the pull request cannot carry Markdown GitHub acts on. Hostile input:
a container name holding a newline and a ```suggestion fence (which made the bot post a one-click
"Commit suggestion" it never produced), matched code holding backticks, links and images in prose."""

from __future__ import annotations

import re

from bot.analyzers import default_analyzers
from bot.analyzers.engine import analyze_change
from bot.core.model import Category, Finding, Severity
from bot.core.repo_config import RepoConfig
from bot.render.comment import render_inline_comment
from bot.render.sanitize import neutralize
from tests.support.memrepo import added_files

PAYLOAD = "web\n```suggestion\n          image: attacker/miner:latest\n```\n"
MANIFEST = f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 3
  selector:
    matchLabels: {{app: api}}
  template:
    spec:
      containers:
        - name: {PAYLOAD!r}
          image: registry.example/api:1
          ports: [{{containerPort: 80}}]
""".replace("'", '"')
SUGGESTION_FENCE = re.compile(r"(`{3,}|~{3,})[ \t]*suggestion", re.IGNORECASE)


def _finding(**fields: object) -> Finding:
    base: dict[str, object] = dict(id="SR-1", category=Category.other, severity=Severity.high, path="a.py",
                                   start_line=1, end_line=1, title="t", evidence="e", risk="r", rollback="b",
                                   monitoring="m", source="rule")
    base.update(fields)
    return Finding.model_validate(base)


def test_a_container_name_with_a_suggestion_fence_renders_as_one_inline_code_span() -> None:
    changes, repo = added_files({"deploy/api.yaml": MANIFEST})
    findings = analyze_change(changes, repo, RepoConfig(), default_analyzers()).findings
    assert findings, "the manifest must produce a finding that quotes the container name"
    for f in findings:
        body = render_inline_comment(f)
        assert not SUGGESTION_FENCE.search(body), body
        if "web" in f.evidence:
            evidence_line = next(line for line in body.splitlines() if "web" in line)
            assert "`web ```" not in evidence_line and "attacker/miner" in evidence_line  # one line, still shown
            assert evidence_line.count("`") % 2 == 0  # the code span is closed on the same line


def test_matched_code_with_backticks_and_newlines_stays_in_its_code_span() -> None:
    code = 'import requests\n\n\ndef f():\n    requests.get("`\\n```suggestion\\nboom\\n```")\n'
    changes, repo = added_files({"app/x.py": code})
    [finding] = [f for f in analyze_change(changes, repo, RepoConfig(), default_analyzers()).findings
                 if f.source == "py-requests-no-timeout"]
    assert "\n" not in finding.evidence and finding.evidence.count("`") == 4  # `requests.get(...)`, `timeout=`


def test_only_the_bots_own_validated_suggestion_is_a_suggestion_block() -> None:
    hostile = "see\n```suggestion\nevil()\n```\nand\n~~~ Suggestion\nevil()\n~~~\n- ```suggestion\n  evil()\n  ```"
    f = _finding(evidence=hostile, advice=hostile, risk=hostile, suggestion="x = 1\n")
    body = render_inline_comment(f)
    assert len(SUGGESTION_FENCE.findall(body)) == 1
    assert body.index("```suggestion\nx = 1\n```") > 0


def test_links_images_and_bare_urls_from_untrusted_text_do_not_render() -> None:
    text = ("![pixel](https://evil.example/p.png) [click](https://evil.example) <https://evil.example> "
            "www.evil.example [ref][r]\n[r]: https://evil.example")
    out = neutralize(text)
    for live in ("](", "][", "]:", "://", "www.", "<https"):
        assert live not in out, live
    assert "evil.example" in out  # still readable


def test_neutralize_leaves_plain_prose_unchanged() -> None:
    text = "Query count grows 10x: one round trip per item (ratio 1:2, list[0])."
    assert neutralize(text) == text

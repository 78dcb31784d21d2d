"""The team's own rules and generated code through the App: from a signed `pull_request` POST to the inline
comment, the check run and what the model was sent.

The repository's rules folder and the organisation's (`octo/.github`) are read from the base in the config's
one GraphQL query; a rule the pull request adds does not apply; generated files are neither analysed nor sent
to the model, and a new one is named in the summary.
"""

from __future__ import annotations

from typing import Any

from bot.render.comment import find_markers
from tests.analyzers.test_repo_rules import RULE
from tests.support import webhooks as wh
from tests.support.fakemodel import FakeModel, Reply, tool
from tests.support.service import app_settings, deliver, receiver, running_app, wait_result

RULES = ".github/scale-review/rules"
PAY = "import billing\n\n\ndef pay(order):\n    billing.charge(order)\n"
NO_TIMEOUT = "import requests\n\n\ndef fetch(url):\n    return requests.get(url)\n"
ORG_RULE = (
    RULE.replace("team-billing-client-deadline", "org-ledger-deadline")
    .replace("billing.$METHOD", "ledger.$METHOD")
    .replace("Billing client call without a deadline", "Ledger call without a deadline")
    .replace('billing.charge(order', 'ledger.charge(order')
)
LEDGER = "import ledger\n\n\ndef book(order):\n    ledger.charge(order)\n"
NUMBER = 30


def review(gh: Any, settings: Any, delivery: str, model: FakeModel | None = None) -> dict[str, Any]:
    head = gh.store.repos[wh.REPO].pulls[NUMBER].head_sha
    with running_app(settings, model_client=model.client() if model else None) as enq, \
            receiver(settings, enq) as client:
        r = deliver(client, "pull_request", wh.pull_request("opened", number=NUMBER, head=head), delivery=delivery)
        assert r.status_code == 202
        return wait_result(delivery)


def run_of(gh: Any) -> dict[str, Any]:
    [run] = [r for r in gh.check_runs(wh.REPO) if r["head_sha"] == gh.store.repos[wh.REPO].pulls[NUMBER].head_sha]
    return dict(run)


def comments_of(gh: Any, title: str) -> list[dict[str, Any]]:
    return [c for c in gh.review_comments(wh.REPO, NUMBER) if title in c["body"]]


def test_a_repository_rule_and_an_org_rule_comment_inline_with_a_suggestion_and_gate(fake_github, sqlite_backend):
    gh = fake_github
    gh.add_repo("octo/.github", {f"{RULES}/ledger.yml": ORG_RULE}, installation_id=wh.INSTALLATION)
    gh.add_pull(wh.REPO, NUMBER, {"app/pay.py": (None, PAY), "app/book.py": (None, LEDGER)},
                base_files={f"{RULES}/billing.yml": RULE})
    result = review(gh, app_settings(gh, sqlite_backend.url), "team-rule-1")
    assert result["outcome"] == "failure"
    [own] = comments_of(gh, "Billing client call without a deadline")
    assert own["path"] == "app/pay.py" and own["line"] == 5
    assert "```suggestion\n    billing.charge(order, deadline=5)\n```" in own["body"]
    assert "This is one of the repository's own rules (.github/scale-review/rules/)." in own["body"]
    [org] = comments_of(gh, "Ledger call without a deadline")
    assert org["path"] == "app/book.py" and "This is one of the organisation's own rules" in org["body"]
    assert "```suggestion\n    ledger.charge(order, deadline=5)\n```" in org["body"]
    posted = set().union(*(find_markers(c["body"]) for c in (own, org)))
    assert posted <= set(result["blocking"]) and len(posted) == 2
    run = run_of(gh)
    assert run["conclusion"] == "failure"
    titles = {(a["path"], a["title"]) for a in run["annotations"]}
    assert titles == {("app/pay.py", "[high] Billing client call without a deadline"),
                      ("app/book.py", "[high] Ledger call without a deadline")}
    assert "Billing client call without a deadline" in run["output"]["summary"]
    assert gh.count("GET", r"/git/trees/") == 0  # the rules came with the config: no tree listing


def test_a_repository_rule_overrides_the_org_rule_of_the_same_id_and_the_summary_says_so(fake_github,
                                                                                        sqlite_backend):
    gh = fake_github
    org_version = RULE.replace("severity: high", "severity: low").replace("Pass deadline=5.", "Org advice.")
    gh.add_repo("octo/.github", {f"{RULES}/billing.yml": org_version}, installation_id=wh.INSTALLATION)
    gh.add_pull(wh.REPO, NUMBER, {"app/pay.py": (None, PAY)}, base_files={f"{RULES}/billing.yml": RULE})
    result = review(gh, app_settings(gh, sqlite_backend.url), "team-rule-2")
    assert result["outcome"] == "failure"  # the repository's version (high) ran, not the org's (low)
    [comment] = comments_of(gh, "Billing client call without a deadline")
    assert "Pass deadline=5." in comment["body"] and "Org advice." not in comment["body"]
    summary = run_of(gh)["output"]["summary"]
    assert (f"{RULES}/billing.yml: team-billing-client-deadline overrides the organisation's rule of the same id "
            f"(octo/.github:{RULES}/billing.yml)") in summary


def test_rules_and_generated_files_the_pr_adds_do_not_apply_and_are_named(fake_github, sqlite_backend):
    gh = fake_github
    seen: list[str] = []

    def specialist(body: dict[str, Any]) -> Reply:
        seen.append(str(body["messages"][0]["content"][0]["text"]))
        return Reply([tool("finish_review", summary="reviewed")])

    model = FakeModel(specialist)
    gh.add_pull(wh.REPO, NUMBER, {
        f"{RULES}/billing.yml": (None, RULE),  # added by the PR: takes effect once merged
        "app/pay.py": (None, PAY),
        "gen/client.py": (None, NO_TIMEOUT),  # generated by the base's .gitattributes
        "api/orders_pb2.py": (None, NO_TIMEOUT),  # generated by its name
    }, base_files={".gitattributes": "gen/** linguist-generated=true\n"})
    result = review(gh, app_settings(gh, sqlite_backend.url), "team-rule-3", model)
    assert not comments_of(gh, "Billing client call without a deadline")
    assert not [c for c in gh.review_comments(wh.REPO, NUMBER) if c["path"] in ("gen/client.py", "api/orders_pb2.py")]
    assert result["outcome"] == "success"
    summary = run_of(gh)["output"]["summary"]
    changed = f"Repository rule file changed by this pull request: {RULES}/billing.yml (takes effect once merged)"
    assert changed in summary
    assert "New file left out as generated: gen/client.py (generated (.gitattributes linguist-generated))" in summary
    assert "New file left out as generated: api/orders_pb2.py" in summary
    # the model was sent the reviewed files, not the generated ones
    assert seen and "diff --git a/app/pay.py" in seen[0]
    assert "gen/client.py" not in seen[0] and "orders_pb2.py" not in seen[0]

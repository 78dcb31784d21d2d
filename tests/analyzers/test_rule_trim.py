"""A rule's config trimmed for a file: the `not:` and `any:` branches its text rules out are left out, and the rule
still matches the same nodes."""

from __future__ import annotations

from ast_grep_py import SgRoot

from bot.analyzers.rule_trim import dead_sites, trim_sites, trimmed

PER_ITEM = {
    "rule": {
        "kind": "call",
        "inside": {
            "kind": "for_statement",
            "stopBy": "end",
            "not": {"has": {"field": "right", "regex": "(?i)batch|chunk"}},
        },
        "any": [{"regex": "^requests\\."}, {"regex": "^httpx\\."}],
    }
}
CODE = "for user in users:\n    requests.get(url)\nfor part in chunks:\n    requests.get(url)\n"


def _matches(config: dict, text: str) -> list[str]:
    return [n.text() for n in SgRoot(text, "python").root().find_all(config)]  # type: ignore[arg-type]


def _trim(config: dict, text: str) -> dict:
    sites = trim_sites(config)
    return trimmed(config, sites, dead_sites(sites, text, {}))


def test_a_not_and_a_branch_the_text_rules_out_are_left_out_and_the_matches_stay() -> None:
    text = CODE.replace("chunks", "pages")
    small = _trim(PER_ITEM, text)
    assert "not" not in small["rule"]["inside"] and small["rule"]["any"] == [{"regex": "^requests\\."}]
    assert _matches(small, text) == _matches(PER_ITEM, text) == ["requests.get(url)", "requests.get(url)"]
    assert "not" in PER_ITEM["rule"]["inside"]  # the pack's own config is never changed


def test_what_the_text_can_match_stays() -> None:
    assert _trim(PER_ITEM, CODE + "httpx.get(u)\n") == PER_ITEM
    assert _matches(PER_ITEM, CODE) == ["requests.get(url)"]  # the loop over chunks is batched


def test_a_lone_not_and_an_any_without_a_live_branch_stay_whole() -> None:
    lone = {"rule": {"not": {"regex": "^zzz$"}}}
    assert trim_sites(lone) == ()
    both_dead = {"rule": {"kind": "call", "any": [{"regex": "^a\\.x$"}, {"regex": "^b\\.y$"}]}}
    assert _trim(both_dead, "c.z()\n") == both_dead

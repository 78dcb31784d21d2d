"""Property: whatever the change and wherever the findings point, GitHub (the fake, which reads the
diff with its own parser) never refuses our review, and every finding ends up inline, in the body,
or listed as outside the diff."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.diff import parse_diff
from bot.core.model import Category, Finding, Review, Severity
from bot.github.auth import TokenCache
from bot.github.publish import post_review
from tests.support.fakegithub import FakeGitHub
from tests.support.fakegithub.clients import make_gateway

REPO = "acme/props"
NUMBERS = itertools.count(1)
TOKENS = TokenCache()


@pytest.fixture(scope="module")
def shared_gh() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.add_repo(REPO, {"README.md": "x\n"})
        yield fake


edits = st.lists(st.tuples(st.sampled_from(["keep", "change", "insert", "delete"]), st.integers(1, 4)),
                 min_size=1, max_size=12)
spans = st.lists(st.tuples(st.integers(1, 90), st.integers(0, 8), st.booleans()), min_size=1, max_size=12)


def apply(base: list[str], plan: list[tuple[str, int]]) -> list[str]:
    out, i = [], 0
    for op, n in plan:
        if op == "keep":
            out += base[i : i + n * 3]
            i += n * 3
        elif op == "change":
            out += [f"changed {k} {line}" for k, line in enumerate(base[i : i + n])]
            i += n
        elif op == "insert":
            out += [f"new line {k}\n" for k in range(n)]
        else:
            i += n
    return out + base[i:]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=st.integers(3, 60), plan=edits, targets=spans)
def test_reviews_are_never_refused(shared_gh: FakeGitHub, size: int, plan: list[tuple[str, int]],
                                   targets: list[tuple[int, int, bool]]) -> None:
    number = next(NUMBERS)
    base = [f"line {i}\n" for i in range(1, size + 1)]
    head = apply(base, plan)
    if head == base:
        head = [*base, "tail\n"]
    shared_gh.add_pull(REPO, number, {"f.py": ("".join(base), "".join(head))})
    pr = shared_gh.store.repos[REPO].pulls[number]
    findings = [
        Finding(id=f"SR-{number:04d}{k:04d}", category=Category.other, severity=Severity.medium, path="f.py",
                start_line=start, end_line=start + length, title="t", evidence="e", risk="r", rollback="b",
                monitoring="m", source="prop", suggestion="x = 1\n" if with_fix else None)
        for k, (start, length, with_fix) in enumerate(targets)
    ]
    changes = parse_diff(shared_gh.pull_diff(REPO, number))
    gw = make_gateway(shared_gh, cache=TOKENS)
    result = post_review(gw, REPO, number, pr.head_sha, Review(findings=findings), changes)
    statuses = [c.status for c in shared_gh.calls_to("POST", rf"/pulls/{number}/reviews$")]
    assert statuses == [200], statuses  # no 422, no fallback
    placed = set(result.inline) | set(result.in_body) | set(result.outside_diff)
    assert placed == {f.id for f in findings}
    assert len(shared_gh.review_comments(REPO, number)) == len(result.inline)

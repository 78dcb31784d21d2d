"""Kubernetes manifests: rules fire at the marked lines, safe manifests stay quiet, hostile YAML is survived.

Fixture files mark each expected finding with `# expect: <rule-id> ...` on the line it points at;
files under `quiet/` carry no marks and must produce nothing.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.analyzers import default_analyzers
from bot.analyzers.base import FileInput, NotAnalysed
from bot.analyzers.k8s_yaml import detemplate, load_manifests
from bot.analyzers.kubernetes import KubernetesAnalyzer
from bot.core.model import Category, Finding, Severity
from tests.support.analyzer_fixtures import change_for, fixture_path, marked_lines

FIXTURES = Path(__file__).parents[1] / "fixtures" / "k8s"
FIRE = sorted(p for p in (FIXTURES / "fire").rglob("*.yaml"))
QUIET = sorted(p for p in (FIXTURES / "quiet").rglob("*.yaml"))
_EXPECT = re.compile(r"#\s*expect:\s*([a-z0-9 \-]+)")

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 1
  selector:
    matchLabels: {app: api}
  template:
    spec:
      containers:
        - name: api
          image: api:1
          ports: [{containerPort: 80}]
"""


def run(path: str, text: str, added: set[int] | None = None) -> list[Finding]:
    """The findings, including those of the part read before a parse error (the engine reports the rest)."""
    try:
        return KubernetesAnalyzer().analyze(FileInput(change=change_for(text, path, added), text=text))
    except NotAnalysed as exc:
        return exc.findings


def expected(text: str) -> set[tuple[int, str]]:
    return marked_lines(text, _EXPECT)


def rel(p: Path) -> str:
    return fixture_path(p, FIXTURES)


@pytest.mark.parametrize("fixture", FIRE, ids=rel)
def test_fire_fixture_reports_exactly_the_marked_lines(fixture: Path) -> None:
    text = fixture.read_text()
    assert KubernetesAnalyzer().supports(rel(fixture), text)
    assert {(f.start_line, f.source) for f in run(rel(fixture), text)} == expected(text)


@pytest.mark.parametrize("fixture", QUIET, ids=rel)
def test_quiet_fixture_reports_nothing(fixture: Path) -> None:
    text = fixture.read_text()
    assert KubernetesAnalyzer().supports(rel(fixture), text)
    assert run(rel(fixture), text) == []


def test_every_rule_has_a_firing_fixture() -> None:
    fired = {rule for p in FIRE for _, rule in expected(p.read_text())}
    assert fired == set(KubernetesAnalyzer().rule_ids())


def test_findings_carry_categories_severities_and_evidence() -> None:
    by_rule = {f.source: f for f in run("k8s/api.yaml", DEPLOYMENT)}
    replica = by_rule["k8s-single-replica"]
    assert replica.category == Category.single_point_of_failure and replica.severity == Severity.medium
    assert replica.start_line == 6 and "Deployment api" in replica.evidence
    assert by_rule["k8s-missing-resource-requests"].category == Category.missing_limits
    assert by_rule["k8s-missing-resource-requests"].evidence.endswith("sets no resources.requests and no memory limit")
    assert "k8s-missing-memory-limit" not in by_rule  # the requests finding covers it (one per line and category)
    assert by_rule["k8s-missing-readiness-probe"].start_line == 12
    assert "api" in by_rule["k8s-missing-readiness-probe"].evidence


def test_unset_replicas_is_a_low_severity_hint() -> None:
    text = DEPLOYMENT.replace("  replicas: 1\n", "")
    [hint] = [f for f in run("k8s/api.yaml", text) if f.source == "k8s-single-replica"]
    assert hint.severity == Severity.low and hint.start_line == 2 and hint.confidence < 0.8


def test_autoscaler_elsewhere_in_the_file_silences_the_replica_rule() -> None:
    hpa = "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: api}\n"
    hpa += "spec: {scaleTargetRef: {kind: Deployment, name: api}, minReplicas: 3, maxReplicas: 9}\n"
    assert "k8s-single-replica" not in {f.source for f in run("k8s/api.yaml", DEPLOYMENT + hpa)}


def test_only_added_lines_are_reported() -> None:
    assert [f.source for f in run("k8s/api.yaml", DEPLOYMENT, added={6})] == ["k8s-single-replica"]
    assert run("k8s/api.yaml", DEPLOYMENT, added={13}) == []  # an image bump on an old container


def test_identical_containers_in_two_objects_get_distinct_ids() -> None:
    text = DEPLOYMENT + "---\n" + DEPLOYMENT
    ids = [f.id for f in run("k8s/api.yaml", text)]
    assert len(ids) == len(set(ids)) == 6


def test_supports_only_yaml_with_api_version_and_kind() -> None:
    analyzer = KubernetesAnalyzer()
    assert analyzer.supports("deploy/api.yml", DEPLOYMENT)
    assert not analyzer.supports("deploy/api.json", DEPLOYMENT)
    assert not analyzer.supports(".github/workflows/ci.yml", "on: push\njobs: {}\n")


def test_detemplate_keeps_line_numbers() -> None:
    text = "a: 1\n{{- if .x }}\nb: {{ .y }}\n{{- end }}\nc: 3\n"
    clean, touched = detemplate(text)
    assert clean.count("\n") == text.count("\n") and touched == {2, 3, 4}
    assert "b: templated" in clean


BILLION_LAUGHS = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\n"
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True))
    + "spec: {template: {spec: {containers: *i}}}\n"
)


@pytest.mark.parametrize(
    "text",
    [
        BILLION_LAUGHS,
        "apiVersion: v1\nkind: Pod\nspec: {containers: [\n  - name: x\n",  # malformed
        "apiVersion: v1\nkind: Pod\n" + "a:\n  " * 3000,  # deep nesting
        "apiVersion: v1\nkind: Pod\nspec:\n  containers: " + "[" * 20_000 + "]" * 20_000 + "\n",
        "apiVersion: v1\nkind: Deployment\nspec: !!python/object/apply:os.system ['echo pwned']\n",
        "apiVersion: v1\nkind: Pod\n\x00\x07\ufffd: \ud800\n",
        "apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: [1]\n  template: 7\n",
        "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n"
        "      containers: [1, null, {image: x}]\n",
        "---\n" * 5000 + "apiVersion: v1\nkind: Pod\n",
    ],
)
def test_hostile_yaml_never_raises_or_hangs(text: str) -> None:
    started = time.perf_counter()
    findings = run("k8s/hostile.yaml", text)
    assert all(isinstance(f, Finding) for f in findings)
    assert time.perf_counter() - started < 5


def test_billion_laughs_is_not_expanded() -> None:
    started = time.perf_counter()
    loaded = load_manifests(BILLION_LAUGHS)
    assert [m.kind for m in loaded.manifests] == ["ConfigMap"]
    assert time.perf_counter() - started < 1


def test_huge_manifest_is_refused_with_a_reason() -> None:
    text = DEPLOYMENT + "".join(f"# filler line {i}\n" for i in range(80_000))
    assert load_manifests(text).error is not None
    assert run("k8s/huge.yaml", text) == []


def test_malformed_document_after_good_ones_keeps_the_good_findings() -> None:
    text = DEPLOYMENT + "---\nkind: [unclosed\n"
    assert "k8s-single-replica" in {f.source for f in run("k8s/api.yaml", text)}
    with pytest.raises(NotAnalysed, match="^parse error: not valid YAML"):  # and says it could not read it all
        KubernetesAnalyzer().analyze(FileInput(change=change_for(text, "k8s/api.yaml", None), text=text))


def test_default_analyzers_include_the_kubernetes_analyzer() -> None:
    assert any(isinstance(a, KubernetesAnalyzer) for a in default_analyzers())


YAML_PIECES = [
    "apiVersion: v1\n",
    "kind: Deployment\n",
    "spec:\n",
    "  replicas: 1\n",
    "  template:\n",
    "    spec:\n",
    "      containers:\n",
    "        - name: a\n",
    "          image: x\n",
    "          ports: [1]\n",
    "---\n",
    "&a ",
    "*a ",
    "{{ x }}",
    "[",
    "]",
    "{",
    "}",
    ": ",
    "- ",
    "\t",
    "'",
    '"',
    "\n",
    "<<: *a\n",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(YAML_PIECES), max_size=40))
def test_arbitrary_yaml_never_raises(pieces: list[str]) -> None:
    text = "".join(pieces)
    for finding in run("k8s/p.yaml", text):
        assert 1 <= finding.start_line <= text.count("\n") + 1


@pytest.mark.parametrize(
    ("schedule", "frequent"),
    [
        ("*/5 * * * *", True),
        ("0 * * * *", True),
        ("0,30 3 * * *", True),
        ("@hourly", True),
        ("0 3 * * *", False),
        ("30 2 * * 1", False),
        ("@daily", False),
        ("nonsense", False),
    ],
)
def test_cron_frequency(schedule: str, frequent: bool) -> None:
    from bot.analyzers.k8s_scaling import runs_at_least_hourly

    assert runs_at_least_hourly(schedule) is frequent


def test_the_fuzz_pieces_in_order_make_findings_on_real_lines() -> None:
    """The property above is not vacuous: its pieces, in order, are a workload the analyzer reports on."""
    text = "".join(YAML_PIECES[:10])
    found = run("k8s/p.yaml", text)
    assert found
    assert all(1 <= f.start_line <= f.end_line <= text.count("\n") + 1 for f in found)

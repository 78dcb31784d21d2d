"""The Kubernetes manifest analyzer: single replicas, containers without resources or readiness probes.

Reads `*.yaml`/`*.yml` documents that have `apiVersion` and `kind` (multi-document files, `kind:
List`, Helm templates parsed leniently). Findings point at the `replicas:` line or the container's
`- name:` line and are reported only when those lines were added by the change. Quiet where the
file cannot tell: a HorizontalPodAutoscaler in the file, a LimitRange, kustomize patches (no image
or selector), dev/test/example paths for replicas, and lines a Helm template fills in.
"""

from __future__ import annotations

import functools
import re
from pathlib import PurePosixPath

from yaml.nodes import MappingNode, SequenceNode

from bot.analyzers.base import FileInput, NotAnalysed
from bot.analyzers.k8s_scaling import autoscaler_hits, cronjob_hits
from bot.analyzers.k8s_yaml import (
    Manifest,
    ManifestFile,
    first_line,
    get,
    last_line,
    load_manifests,
    path,
    scalar,
)
from bot.analyzers.rule_info import RULES_DIR, Hit, RuleInfo, findings_from_hits, load_rule_infos
from bot.core.deadline import NEVER, Deadline
from bot.core.model import Finding, Severity

ANALYZER_NAME = "kubernetes"
RULES_FILE = RULES_DIR / "kubernetes.yml"
SINGLE_REPLICA = "k8s-single-replica"
MISSING_REQUESTS = "k8s-missing-resource-requests"
MISSING_MEMORY_LIMIT = "k8s-missing-memory-limit"
MISSING_READINESS = "k8s-missing-readiness-probe"
POD_SPEC_PATHS = {
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Rollout": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "Pod": ("spec",),
}
REPLICATED_KINDS = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "Rollout"})
SERVING_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Rollout"})
AUTOSCALER_KINDS = frozenset({"HorizontalPodAutoscaler", "ScaledObject"})
NON_PRODUCTION = frozenset(
    {
        "dev",
        "development",
        "local",
        "test",
        "tests",
        "testing",
        "example",
        "examples",
        "sample",
        "samples",
        "sandbox",
        "minikube",
        "kind",
        "ci",
        "e2e",
        "demo",
        "fixtures",
    }
)
NON_PRODUCTION_REASON = "non-production path (dev, test, example, ...): not checked"
KUSTOMIZE_BASES = frozenset({"base", "bases", "components"})
MAX_CONTAINERS = 50
MAX_FINDINGS = 200
_YAML_SUFFIXES = (".yaml", ".yml")
_HAS_KIND = re.compile(r"^[ \t]*kind\s*:", re.MULTILINE)
_HAS_API = re.compile(r"^[ \t]*apiVersion\s*:", re.MULTILINE)


@functools.cache
def kubernetes_rules() -> tuple[RuleInfo, ...]:
    return load_rule_infos(RULES_FILE)


def non_production_path(file_path: str) -> bool:
    parts = [p.lower() for p in PurePosixPath(file_path).parts]
    words = set(parts[:-1]) | set(re.split(r"[-_.]", parts[-1] if parts else ""))
    return bool(words & NON_PRODUCTION)


def _autoscaled(mf: ManifestFile) -> set[str]:
    """Names targeted by an autoscaler in the file ('*' when one has no readable target)."""
    names = set()
    for m in mf.manifests:
        if m.kind in AUTOSCALER_KINDS:
            names.add(scalar(path(m.root, "spec", "scaleTargetRef", "name")) or "*")
    return names


def _templated(mf: ManifestFile, start: int, end: int) -> bool:
    return any(start <= n <= end for n in mf.templated_lines)


def replica_hits(m: Manifest, mf: ManifestFile, autoscaled: set[str], kustomize_base: bool = False) -> list[Hit]:
    if m.kind not in REPLICATED_KINDS or m.name in autoscaled or "*" in autoscaled:
        return []
    replicas = path(m.root, "spec", "replicas")
    label = f"{m.kind} {m.name}"
    if replicas is not None:
        if scalar(replicas) != "1":
            return []
        line = first_line(replicas)
        return [Hit(SINGLE_REPLICA, line, line, f"{label} replicas: 1", {"object": label, "replicas": "1"})]
    spec = get(m.root, "spec")
    if spec is None or get(spec, "selector") is None or _templated(mf, first_line(m.root), last_line(m.root)):
        return []  # a patch or a template that may set replicas
    if kustomize_base:
        return []  # overlays usually set the count
    line = first_line(get(m.root, "kind") or m.root)
    return [
        Hit(
            SINGLE_REPLICA,
            line,
            line,
            f"{label} replicas unset",
            {"object": label, "replicas": "unset (defaults to 1)"},
            severity=Severity.low,
            confidence=0.5,
        )
    ]


def _containers(m: Manifest) -> list[MappingNode]:
    spec_path = POD_SPEC_PATHS.get(m.kind)
    containers = path(m.root, *spec_path, "containers") if spec_path else None
    if not isinstance(containers, SequenceNode):
        return []
    return [c for c in containers.value[:MAX_CONTAINERS] if isinstance(c, MappingNode)]


def container_hits(m: Manifest, mf: ManifestFile, check_resources: bool) -> list[Hit]:
    hits: list[Hit] = []
    containers = _containers(m)
    # A pod is ready when all its containers are: one probe (on the main container) covers its sidecars.
    pod_has_probe = any(get(c, "readinessProbe") is not None for c in containers)
    readiness_reported = pod_has_probe or m.kind not in SERVING_KINDS
    for c in containers:
        if get(c, "image") is None or _templated(mf, first_line(c), last_line(c)):
            continue  # a kustomize patch, or a template that may add what is missing
        name = scalar(get(c, "name")) or "(unnamed)"
        line = first_line(c)
        values = {"object": f"{m.kind} {m.name}", "container": name}
        code = f"{m.kind} {m.name} container {name}"
        resources = get(c, "resources")
        requests, limits = get(resources, "requests"), get(resources, "limits")
        no_requests = get(requests, "cpu") is None and get(requests, "memory") is None
        no_memory_limit = get(limits, "memory") is None
        if check_resources and no_requests:  # one finding per line and category: mention the limit too
            also = {"also": " and no memory limit" if no_memory_limit else ""}
            hits.append(Hit(MISSING_REQUESTS, line, line, code, {**values, **also}))
        elif check_resources and no_memory_limit:
            hits.append(Hit(MISSING_MEMORY_LIMIT, line, line, code, values))
        if not readiness_reported and get(c, "ports") is not None:
            hits.append(Hit(MISSING_READINESS, line, line, code, values))
            readiness_reported = True
    return hits


def manifest_hits(file_path: str, text: str, deadline: Deadline = NEVER) -> tuple[list[Hit], str | None]:
    """Every hit in one manifest file (diff-unaware), and why part of it could not be read (or None)."""
    mf = load_manifests(text)
    autoscaled = _autoscaled(mf)
    check_resources = not any(m.kind == "LimitRange" for m in mf.manifests)
    if non_production_path(file_path):
        return [], None
    kustomize_base = bool({p.lower() for p in PurePosixPath(file_path).parts[:-1]} & KUSTOMIZE_BASES)
    hits: list[Hit] = []
    for m in mf.manifests:
        deadline.check()
        hits.extend(replica_hits(m, mf, autoscaled, kustomize_base))
        hits.extend(autoscaler_hits(m))
        hits.extend(cronjob_hits(m))
        hits.extend(container_hits(m, mf, check_resources))
    return hits, mf.error


def looks_like_manifest(path_: str, text: str) -> bool:
    return path_.lower().endswith(_YAML_SUFFIXES) and bool(_HAS_KIND.search(text)) and bool(_HAS_API.search(text))


class KubernetesAnalyzer:
    """Analyzer protocol implementation for Kubernetes manifests."""

    name = ANALYZER_NAME

    def __init__(self) -> None:
        self.rules: list[RuleInfo] = list(kubernetes_rules())
        self._by_id = {r.id: r for r in self.rules}

    def rule_ids(self) -> list[str]:
        return [r.id for r in self.rules]

    def supports(self, path: str, text: str) -> bool:
        return looks_like_manifest(path, text)

    def skip_reason(self, path: str) -> str | None:
        """Manifests under dev/test/example paths are not checked (coverage says so)."""
        return NON_PRODUCTION_REASON if non_production_path(path) else None

    def analyze(self, file: FileInput) -> list[Finding]:
        if not file.change.changed:
            return []
        try:
            hits, error = manifest_hits(file.path, file.text, file.deadline)
        except Exception as exc:  # hostile input (or a parser bug) must not sink the review, nor pass as read
            raise NotAnalysed(f"parse error ({type(exc).__name__})") from exc
        findings = findings_from_hits(self._by_id, file, hits, MAX_FINDINGS)
        if error:  # the documents before a malformed one keep their findings; the file is not reviewed whole
            raise NotAnalysed(f"parse error: {error}" if error.startswith("not valid") else error, findings)
        return findings

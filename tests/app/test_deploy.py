"""The deployment files: Kubernetes manifests valid against the API schemas, compose and Dockerfile sane."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S_VERSION = "1.30"


def _docs() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted((ROOT / "deploy" / "kubernetes").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                out.append((f"{path.name}:{doc['kind']}", doc))
    return out


@pytest.mark.parametrize("name, doc", _docs(), ids=[n for n, _ in _docs()])
def test_manifest_is_valid_kubernetes(name: str, doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_validator_rejects_a_broken_manifest() -> None:
    doc = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}, "spec": {"replicas": "two"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_receiver_has_probes_hpa_and_pdb() -> None:
    kinds = {n for n, _ in _docs()}
    assert {"receiver.yaml:HorizontalPodAutoscaler", "receiver.yaml:PodDisruptionBudget"} <= kinds
    receiver = next(d for n, d in _docs() if n == "receiver.yaml:Deployment")
    container = receiver["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert "--no-worker" in container["args"]


def test_compose_runs_receiver_workers_and_postgres() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    assert set(compose["services"]) == {"postgres", "receiver", "worker"}
    for svc in ("receiver", "worker"):
        assert compose["services"][svc]["environment"]["DATABASE_URL"].startswith("postgresql://")


def test_dockerfile_runs_as_non_root_with_a_healthcheck() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert text.count("FROM ") >= 2
    assert "USER 10001" in text and "HEALTHCHECK" in text and "/healthz" in text


def test_metrics_are_scraped_off_a_port_the_service_does_not_expose() -> None:
    config = next(d for n, d in _docs() if n == "configmap.yaml:ConfigMap")
    port = int(config["data"]["SCALE_REVIEW_METRICS_PORT"])
    for name in ("receiver.yaml:Deployment", "worker.yaml:Deployment"):
        pod = next(d for n, d in _docs() if n == name)["spec"]["template"]
        ports = {p["name"]: p["containerPort"] for p in pod["spec"]["containers"][0]["ports"]}
        assert ports["metrics"] == port, name
        assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(port), name
    service = next(d for n, d in _docs() if n == "receiver.yaml:Service")
    assert [p["targetPort"] for p in service["spec"]["ports"]] == ["http"]
    assert not any(d["kind"] == "Ingress" and "metrics" in str(d) for _, d in _docs())


def test_compose_publishes_the_webhook_port_but_not_metrics() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    receiver = compose["services"]["receiver"]
    port = receiver["environment"]["SCALE_REVIEW_METRICS_PORT"]
    assert receiver["ports"] == ["8000:8000"] and port in receiver["expose"]
    assert not any(port in str(p) for p in receiver["ports"])

"""Kubernetes checks on scaling objects: autoscalers that may scale to one pod, CronJobs whose runs pile up."""

from __future__ import annotations

import re

from bot.analyzers.k8s_yaml import Manifest, first_line, get, path, scalar
from bot.analyzers.rule_info import Hit
from bot.core.model import Severity

SINGLE_REPLICA = "k8s-single-replica"
CRONJOB_OVERLAP = "k8s-cronjob-overlapping-runs"
_SINGLE_NUMBER = re.compile(r"^\d+$")
_CRON_MACROS = {
    "@hourly": True,
    "@daily": False,
    "@midnight": False,
    "@weekly": False,
    "@monthly": False,
    "@yearly": False,
    "@annually": False,
}


def autoscaler_hits(m: Manifest) -> list[Hit]:
    """A HorizontalPodAutoscaler whose minReplicas is 1 (or unset, which means 1)."""
    if m.kind != "HorizontalPodAutoscaler":
        return []
    target = scalar(path(m.root, "spec", "scaleTargetRef", "name")) or m.name
    label = f"HorizontalPodAutoscaler {m.name} (target {target})"
    minimum = path(m.root, "spec", "minReplicas")
    if minimum is not None:
        if scalar(minimum) != "1":
            return []
        line = first_line(minimum)
        return [Hit(SINGLE_REPLICA, line, line, f"{label} minReplicas: 1", {"object": label, "replicas": "min 1"})]
    spec = get(m.root, "spec")
    if spec is None or get(spec, "maxReplicas") is None:
        return []  # a patch, not a whole object
    line = first_line(get(m.root, "kind") or m.root)
    values = {"object": label, "replicas": "min unset (defaults to 1)"}
    return [Hit(SINGLE_REPLICA, line, line, f"{label} minReplicas unset", values, severity=Severity.low)]


def runs_at_least_hourly(schedule: str) -> bool:
    """True when a cron schedule fires every hour or more often ('*/5 * * * *', '0 * * * *', '@hourly')."""
    fields = schedule.split()
    if len(fields) == 1:
        return _CRON_MACROS.get(fields[0].lower(), False)
    if len(fields) < 5:
        return False
    minute, hour = fields[0], fields[1]
    return not _SINGLE_NUMBER.match(minute) or hour.startswith("*")


def cronjob_hits(m: Manifest) -> list[Hit]:
    """A frequent CronJob that lets a new run start while the previous one is still running."""
    if m.kind != "CronJob":
        return []
    spec = get(m.root, "spec")
    schedule = scalar(get(spec, "schedule"))
    policy = scalar(get(spec, "concurrencyPolicy")) or "Allow"
    if spec is None or schedule is None or policy != "Allow" or not runs_at_least_hourly(schedule):
        return []
    anchor = get(spec, "concurrencyPolicy") or get(spec, "schedule") or m.root
    line = first_line(anchor)
    values = {"object": f"CronJob {m.name}", "schedule": schedule, "policy": policy}
    return [Hit(CRONJOB_OVERLAP, line, line, f"CronJob {m.name} {schedule} {policy}", values)]

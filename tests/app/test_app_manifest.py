"""deploy/app-manifest.yml asks for exactly what the handlers need."""

from pathlib import Path

import yaml

import handlers

MANIFEST = Path(__file__).resolve().parents[2] / "deploy" / "app-manifest.yml"


def test_every_subscribed_event_has_a_handler_and_permissions_are_minimal():
    data = yaml.safe_load(MANIFEST.read_text())
    assert all(handlers.is_subscribed(e) for e in data["default_events"])
    assert data["default_permissions"] == {"checks": "write", "pull_requests": "write", "contents": "read",
                                           "issues": "write", "metadata": "read"}
    assert data["hook_attributes"]["url"].endswith("/webhook")

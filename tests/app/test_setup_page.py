"""Setup in one step: the page a browser renders (headless Chromium) and the code exchange against the fake GitHub."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import uvicorn
import yaml
from fastapi.testclient import TestClient

from bot.app.setup_page import (
    DEFAULT_MANIFEST,
    SetupFlow,
    apply_env_file,
    create_setup_app,
    needs_setup,
    read_env_file,
)
from bot.core.settings import Settings

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run")


class Forms(HTMLParser):
    """Forms and their inputs, as the browser's DOM has them."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, dict] = {}
        self._current: dict | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self._current = {"action": a.get("action"), "method": a.get("method"), "inputs": {}}
            self.forms[a.get("id") or str(len(self.forms))] = self._current
        elif tag == "input" and self._current is not None:
            self._current["inputs"][a.get("name")] = a.get("value")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is required in CI (.ci/run installs Debian's chromium package)")
    pytest.skip("headless Chromium not installed: apt-get install -y chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served_setup(tmp_path) -> Iterator[tuple[str, SetupFlow]]:
    """The setup app on a real socket, as `serve` runs it without credentials."""
    flow = SetupFlow(api_url="https://api.github.com", env_path=tmp_path / ".env")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_setup_app(flow), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", flow
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def rendered_forms(url: str, tmp_path: Path) -> dict[str, dict]:
    browser = chromium()
    profile = tmp_path / "chromium-profile"
    done = subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
                          capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr[-2000:]
    parser = Forms()
    parser.feed(done.stdout)
    return parser.forms


def test_the_browser_gets_a_form_posting_the_manifest_to_github(served_setup, tmp_path):
    base, flow = served_setup
    forms = rendered_forms(base + "/", tmp_path)
    form = forms["register"]
    action = urlsplit(form["action"])
    assert (form["method"], action.scheme, action.netloc, action.path) == ("post", "https", "github.com",
                                                                           "/settings/apps/new")
    [state] = parse_qs(action.query)["state"]
    assert state in flow.pending and len(state) >= 20
    manifest = json.loads(form["inputs"]["manifest"])
    assert manifest["hook_attributes"]["url"] == base + "/webhook"
    assert manifest["redirect_url"] == base + "/setup/callback"
    assert manifest["url"] == base
    shipped = yaml.safe_load(DEFAULT_MANIFEST.read_text())
    assert manifest["default_permissions"] == shipped["default_permissions"]
    assert manifest["default_events"] == shipped["default_events"]


def test_the_organisation_variant_targets_the_organisation(served_setup, tmp_path):
    base, _flow = served_setup
    forms = rendered_forms(base + "/?org=acme-corp", tmp_path)
    assert urlsplit(forms["register"]["action"]).path == "/organizations/acme-corp/settings/apps/new"
    hostile = rendered_forms(base + "/?org=" + "%22%3E%3Cscript%3E", tmp_path)
    assert urlsplit(hostile["register"]["action"]).path == "/settings/apps/new"


def flow_for(gh, tmp_path: Path, **kw) -> SetupFlow:
    return SetupFlow(api_url=gh.url, env_path=tmp_path / ".env", public_url="https://review.example.com", **kw)


def test_the_callback_exchanges_the_code_and_writes_a_private_env_file(fake_github, tmp_path):
    gh = fake_github
    gh.add_manifest_code("code-123")
    flow = flow_for(gh, tmp_path)
    with TestClient(create_setup_app(flow)) as client:
        page = client.get("/").text
        assert "https://review.example.com/webhook" in page
        state = next(iter(flow.pending))
        response = client.get("/setup/callback", params={"code": "code-123", "state": state})
    assert response.status_code == 200
    assert f"https://github.com/apps/{gh.app_slug}/installations/new" in response.text
    env = tmp_path / ".env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    values = read_env_file(env)
    assert values["GITHUB_APP_ID"] == str(gh.app_id)
    assert values["GITHUB_API_URL"] == gh.url
    assert len(values["GITHUB_WEBHOOK_SECRET"]) == 40 and values["GITHUB_CLIENT_SECRET"]
    settings = Settings.from_env(values)  # what the restarted `serve` reads
    assert settings.app_problems() == []
    assert settings.github_private_key.get_secret_value() == gh.private_key_pem.strip()


def test_a_wrong_or_replayed_state_is_refused_and_nothing_is_written(fake_github, tmp_path):
    gh = fake_github
    gh.add_manifest_code("code-xyz")
    flow = flow_for(gh, tmp_path)
    with TestClient(create_setup_app(flow)) as client:
        client.get("/")
        forged = client.get("/setup/callback", params={"code": "code-xyz", "state": "forged"})
        assert forged.status_code == 403 and "expired" in forged.text
        assert not (tmp_path / ".env").exists()
        state = next(iter(flow.pending))
        assert client.get("/setup/callback", params={"code": "code-xyz", "state": state}).status_code == 200
        assert client.get("/setup/callback", params={"code": "code-xyz", "state": state}).status_code == 403


def test_a_code_github_refuses_is_reported(fake_github, tmp_path):
    flow = flow_for(fake_github, tmp_path)
    with TestClient(create_setup_app(flow)) as client:
        client.get("/")
        response = client.get("/setup/callback", params={"code": "unknown", "state": next(iter(flow.pending))})
    assert response.status_code == 502 and "404" in response.text
    assert not (tmp_path / ".env").exists()


def test_an_existing_env_file_is_backed_up_and_its_other_variables_kept(fake_github, tmp_path):
    gh = fake_github
    gh.add_manifest_code("code-2")
    env = tmp_path / ".env"
    env.write_text('DATABASE_URL="postgresql://db/prod"\nGITHUB_APP_ID=1\n')
    flow = flow_for(gh, tmp_path)
    with TestClient(create_setup_app(flow)) as client:
        client.get("/")
        assert client.get("/setup/callback", params={"code": "code-2", "state": next(iter(flow.pending))}).is_success
    [backup] = [p for p in tmp_path.iterdir() if p.name.startswith(".env.backup-")]
    assert backup.read_text() == 'DATABASE_URL="postgresql://db/prod"\nGITHUB_APP_ID=1\n'
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    values = read_env_file(env)
    assert values["DATABASE_URL"] == "postgresql://db/prod" and values["GITHUB_APP_ID"] == str(gh.app_id)


def test_webhooks_are_refused_until_configured(tmp_path):
    flow = SetupFlow(api_url="https://api.github.com", env_path=tmp_path / ".env")
    with TestClient(create_setup_app(flow)) as client:
        response = client.post("/webhook", content=b"{}", headers={"X-GitHub-Event": "ping"})
        metrics = client.get("/metrics").text
    assert response.status_code == 503 and "not configured" in response.json()["reason"]
    assert 'scale_review_webhook_deliveries_total{event="other",status="unconfigured"} 1.0' in metrics


def test_setup_runs_only_when_no_credential_is_configured(tmp_path):
    assert needs_setup({})
    assert needs_setup({"GITHUB_APP_ID": "  "})
    assert not needs_setup({"GITHUB_APP_ID": "1"})
    assert not needs_setup({"GITHUB_PRIVATE_KEY_PATH": "/keys/app.pem"})
    env = tmp_path / ".env"
    env.write_text("# comment\nexport GITHUB_APP_ID='7'\nGITHUB_WEBHOOK_SECRET=\"a,b\"\nnot a line\n")
    environ = {"GITHUB_APP_ID": "from-shell"}
    apply_env_file(env, environ)
    assert environ == {"GITHUB_APP_ID": "from-shell", "GITHUB_WEBHOOK_SECRET": "a,b"}


def test_serve_without_credentials_serves_the_setup_page(tmp_path):
    import signal
    import sys

    import httpx

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "DATABASE_URL"))}
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--port", str(port), "--env-file",
                             str(tmp_path / ".env"), "--public-url", "https://review.example.com"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        page = None
        deadline = time.monotonic() + 60
        while page is None and time.monotonic() < deadline:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
            except httpx.HTTPError:
                time.sleep(0.2)
        assert page is not None and page.status_code == 200
        assert "https://review.example.com/webhook" in page.text and "settings/apps/new?state=" in page.text
        hook = httpx.post(f"http://127.0.0.1:{port}/webhook", content=b"{}", timeout=5)
        assert hook.status_code == 503
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert "register the App" in proc.stderr.read()

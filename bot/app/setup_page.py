"""Setup in one step: with no App credentials, `serve` registers the App through GitHub's manifest flow.

GET `/` shows a form that POSTs the manifest (deploy/app-manifest.yml with this server's URLs) to
GitHub's "new App" page with a one-time `state`. GitHub creates the App and redirects to
`/setup/callback?code=...&state=...`; the code is exchanged (`POST /app-manifests/{code}/conversions`,
no authentication) for the App id, key and secrets, which are written to a `.env` file (mode 0600; an
existing file is kept as a backup and its other variables are carried over). `/webhook` answers 503
until `serve` is restarted with the credentials.
"""

from __future__ import annotations

import html
import json
import os
import re
import secrets
import time
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.app.metrics import Metrics

DEFAULT_MANIFEST = Path(__file__).resolve().parents[2] / "deploy" / "app-manifest.yml"
GITHUB_WEB_URL = "https://github.com"
STATE_TTL_SECONDS = 3600
MAX_PENDING_STATES = 200
EXCHANGE_TIMEOUT = 15.0
ORG_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
CREDENTIAL_VARS = ("GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_PRIVATE_KEY_PATH", "GITHUB_WEBHOOK_SECRET")

NOT_CONFIGURED = "not configured: open this server's / page to register the GitHub App, then restart serve"
BAD_STATE = "This setup link is unknown or has expired. Start again from the setup page."
NO_CODE = "GitHub did not send a code. Start again from the setup page."
EXCHANGE_FAILED = "GitHub refused the code ({status}). Codes are single-use and expire after an hour: start again."
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>scale-review setup</title></head>
<body>
<h1>Set up scale-review</h1>
<p>This server has no GitHub App credentials yet. Register the App on GitHub {owner}: GitHub creates it
with exactly the permissions and events scale-review uses and sends its credentials back here.</p>
<form id="register" method="post" action="{action}">
<input type="hidden" name="manifest" value="{manifest}">
<button type="submit">Register the GitHub App {owner}</button>
</form>
<form id="choose-org" method="get" action="/">
<label>Register it for an organisation instead: <input name="org" value="{org}" placeholder="organisation"></label>
<button type="submit">Use this organisation</button>
</form>
<p>Webhooks will be sent to <code>{webhook}</code>; credentials will be written to <code>{env}</code>.</p>
</body></html>
"""
DONE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>scale-review is registered</title></head>
<body>
<h1>The GitHub App {name} is registered</h1>
<p>Its credentials are in <code>{env}</code> (readable by you only){backup}.</p>
<ol>
<li><a id="install" href="{install}">Install the App</a> on the repositories it should review.</li>
<li>Restart <code>scale-review serve</code> in the same directory: it reads <code>{env}</code>.</li>
</ol>
</body></html>
"""
ERROR_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>scale-review setup</title></head>
<body><h1>Setup did not finish</h1><p>{message}</p><p><a href="/">Back to the setup page</a></p></body></html>
"""


def needs_setup(environ: Mapping[str, str]) -> bool:
    """True when none of the App's credentials is configured (a partial configuration is an error instead)."""
    return not any(environ.get(name, "").strip() for name in CREDENTIAL_VARS)


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (comments, `export`, single or double quotes; `\\n` kept as written)."""
    values: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return values
    for line in text.splitlines()[:10_000]:
        line = line.strip().removeprefix("export ").strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def apply_env_file(path: Path, environ: MutableMapping[str, str]) -> None:
    """Load `path` into `environ` without overriding what is already set (as dotenv does)."""
    for key, value in read_env_file(path).items():
        environ.setdefault(key, value)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "\\n") + '"'


def write_env_file(path: Path, values: Mapping[str, str]) -> Path | None:
    """Write `values` (plus the other variables of an existing file) with mode 0600; return the backup."""
    backup = None
    kept = {}
    if path.exists():
        backup = path.with_name(f"{path.name}.backup-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}")
        _write_private(backup, path.read_bytes())
        kept = {k: v for k, v in read_env_file(path).items() if k not in values}
    lines = [f"{k}={_quote(v)}" for k, v in kept.items()] + [f"{k}={_quote(v)}" for k, v in values.items()]
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    _write_private(tmp, ("# written by scale-review setup\n" + "\n".join(lines) + "\n").encode("utf-8"))
    os.replace(tmp, path)
    return backup


def _write_private(path: Path, data: bytes) -> None:
    """A new file readable by its owner only (never created wider, then narrowed)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(path, 0o600)


def build_manifest(base_url: str, manifest_path: Path = DEFAULT_MANIFEST) -> dict[str, Any]:
    """The App manifest with this server's URLs (home, webhook, redirect after registration)."""
    manifest: dict[str, Any] = yaml.safe_load(manifest_path.read_text(encoding="utf-8"))
    base = base_url.rstrip("/")
    manifest["url"] = base
    manifest["hook_attributes"] = {**manifest.get("hook_attributes", {}), "url": f"{base}/webhook"}
    manifest["redirect_url"] = f"{base}/setup/callback"
    return manifest


def conversion_env(data: Mapping[str, Any], api_url: str) -> dict[str, str]:
    """The variables `serve` needs, from GitHub's manifest conversion answer."""
    values = {
        "GITHUB_APP_ID": str(data["id"]),
        "GITHUB_PRIVATE_KEY": str(data["pem"]),
        "GITHUB_WEBHOOK_SECRET": str(data["webhook_secret"]),
        "GITHUB_CLIENT_ID": str(data.get("client_id", "")),
        "GITHUB_CLIENT_SECRET": str(data.get("client_secret", "")),
        "GITHUB_APP_SLUG": str(data.get("slug", "")),
    }
    if api_url.rstrip("/") != "https://api.github.com":
        values["GITHUB_API_URL"] = api_url.rstrip("/")
    return values


@dataclass
class SetupFlow:
    api_url: str
    env_path: Path
    public_url: str | None = None
    github_url: str = GITHUB_WEB_URL
    manifest_path: Path = DEFAULT_MANIFEST
    pending: dict[str, float] = field(default_factory=dict)

    def new_state(self) -> str:
        now = time.monotonic()
        self.pending = {s: t for s, t in self.pending.items() if t > now}
        while len(self.pending) >= MAX_PENDING_STATES:
            self.pending.pop(next(iter(self.pending)))
        state = secrets.token_urlsafe(24)
        self.pending[state] = now + STATE_TTL_SECONDS
        return state

    def take_state(self, state: str) -> bool:
        expiry = self.pending.pop(state, None)
        return expiry is not None and expiry > time.monotonic()

    def action(self, state: str, org: str | None) -> str:
        where = f"organizations/{org}/settings/apps/new" if org else "settings/apps/new"
        return f"{self.github_url.rstrip('/')}/{where}?state={state}"

    def page(self, base_url: str, org: str | None) -> str:
        base = (self.public_url or base_url).rstrip("/")
        manifest = json.dumps(build_manifest(base, self.manifest_path))
        return PAGE.format(action=html.escape(self.action(self.new_state(), org)), manifest=html.escape(manifest),
                           owner=html.escape(f"for {org}" if org else "for your account"), org=html.escape(org or ""),
                           webhook=html.escape(f"{base}/webhook"), env=html.escape(str(self.env_path)))

    async def exchange(self, code: str) -> tuple[int, dict[str, Any]]:
        url = f"{self.api_url.rstrip('/')}/app-manifests/{code}/conversions"
        async with httpx.AsyncClient(timeout=EXCHANGE_TIMEOUT) as client:
            response = await client.post(url, headers={"Accept": "application/vnd.github+json"})
        body = response.json() if response.status_code == 201 else {}
        return response.status_code, body

    async def callback(self, code: str, state: str) -> tuple[int, str]:
        if not self.take_state(state):
            return 403, ERROR_PAGE.format(message=BAD_STATE)
        if not code or not re.fullmatch(r"[A-Za-z0-9_-]{1,200}", code):
            return 400, ERROR_PAGE.format(message=NO_CODE)
        status, data = await self.exchange(code)
        if status != 201:
            return 502, ERROR_PAGE.format(message=EXCHANGE_FAILED.format(status=status))
        backup = write_env_file(self.env_path, conversion_env(data, self.api_url))
        note = f"; the previous file is kept as <code>{html.escape(str(backup))}</code>" if backup else ""
        install = f"{data.get('html_url', self.github_url + '/apps/' + str(data.get('slug', '')))}/installations/new"
        return 200, DONE_PAGE.format(name=html.escape(str(data.get("name") or data.get("slug") or data["id"])),
                                     env=html.escape(str(self.env_path)), backup=note, install=html.escape(install))


def create_setup_app(flow: SetupFlow, *, metrics: Metrics | None = None) -> FastAPI:
    """The app `serve` runs while unconfigured: the setup page, its callback, and a 503 webhook."""
    meter = metrics or Metrics()
    app = FastAPI(title="scale-review setup", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/")
    async def setup_page(request: Request, org: str = "") -> HTMLResponse:
        chosen = org.strip() if ORG_NAME.fullmatch(org.strip()) else None
        return HTMLResponse(flow.page(str(request.base_url), chosen))

    @app.get("/setup/callback")
    async def setup_callback(code: str = "", state: str = "") -> HTMLResponse:
        status, page = await flow.callback(code, state)
        return HTMLResponse(page, status_code=status)

    @app.post("/webhook")
    async def webhook(request: Request) -> JSONResponse:
        with meter.time_delivery() as record:
            record(request.headers.get("x-github-event", ""), "unconfigured", 503)
        return JSONResponse({"status": "unavailable", "reason": NOT_CONFIGURED}, status_code=503)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok", "reason": "setup mode"})

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        return JSONResponse({"status": "unavailable", "reason": NOT_CONFIGURED}, status_code=503)

    @app.get("/metrics")
    async def metrics_endpoint() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(meter.registry), media_type=CONTENT_TYPE_LATEST)

    return app


SETUP_BANNER = "scale-review: no GitHub App credentials; open {url} to register the App (writes {env})"


def serve_setup(host: str, port: int, *, environ: Mapping[str, str], env_path: Path,
                public_url: str | None = None) -> int:
    """Run the setup app until interrupted (`serve` without credentials)."""
    import sys

    import uvicorn

    api_url = (environ.get("GITHUB_API_URL") or "https://api.github.com").rstrip("/")
    flow = SetupFlow(api_url=api_url, env_path=env_path.resolve(), public_url=public_url)
    print(SETUP_BANNER.format(url=public_url or f"http://{host}:{port}/", env=flow.env_path), file=sys.stderr)
    uvicorn.run(create_setup_app(flow), host=host, port=port, log_level="warning", access_log=False)
    return 0

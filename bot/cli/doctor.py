"""`scale-review doctor`: is the configuration usable? Each check says what is wrong and how to fix it."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import sqlalchemy as sa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from bot.app.workflows import sqlalchemy_url
from bot.core.settings import Settings, SettingsError

Check = tuple[bool, str]

KEY_OK = "private key parses ({bits}-bit RSA)"
KEY_BAD = "private key does not parse: {error} (use the .pem file GitHub generated for the App)"
SECRET_OK = "webhook secret set ({n} secret(s))"  # noqa: S105
DB_OK = "database reachable: {url}"
DB_BAD = "database unreachable: {url}: {error}"
DB_NEW = "database {url} will be created on first start (its folder is writable)"
NO_FOLDER = "its folder does not exist or is not writable"
GITHUB_OK = "GitHub reachable at {api}: App '{slug}' (id {id})"
GITHUB_BAD = "GitHub refused the App at {api}: {error} (check GITHUB_APP_ID, the key and GITHUB_API_URL)"
LLM_ON = "model configured: {model} (ANTHROPIC_API_KEY set)"
LLM_OFF = "no ANTHROPIC_API_KEY: reviews use the static analyzers only"


def _redact(url: str) -> str:
    return sa.make_url(sqlalchemy_url(url)).render_as_string(hide_password=True)


def check_key(settings: Settings) -> Check:
    try:
        key = load_pem_private_key(settings.github_private_key.get_secret_value().encode(), password=None)
    except (ValueError, TypeError) as exc:
        return False, KEY_BAD.format(error=str(exc).splitlines()[0][:200])
    return True, KEY_OK.format(bits=getattr(key, "key_size", "?"))


def check_database(url: str) -> Check:
    if url.startswith("sqlite"):
        path = Path(sa.make_url(url).database or "")
        if not path.exists():  # do not create it here; `serve` will
            folder = path.parent.resolve()
            writable = folder.is_dir() and os.access(folder, os.W_OK)
            return (True, DB_NEW.format(url=url)) if writable else (False, DB_BAD.format(url=url, error=NO_FOLDER))
    try:
        engine = sa.create_engine(sqlalchemy_url(url))
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        finally:
            engine.dispose()
    except Exception as exc:  # any driver error: report it
        return False, DB_BAD.format(url=_redact(url), error=str(exc).splitlines()[0][:200])
    return True, DB_OK.format(url=_redact(url))


def check_github(settings: Settings) -> Check:
    from github import GithubIntegration

    from bot.github.auth import AppCredentials, make_app_auth

    creds = AppCredentials(settings.github_app_id, settings.github_private_key.get_secret_value())
    try:
        integration = GithubIntegration(base_url=settings.github_api_url, auth=make_app_auth(creds), timeout=10)
        app = integration.get_app()
    except Exception as exc:  # network, auth, or key errors: all mean "not usable"
        return False, GITHUB_BAD.format(api=settings.github_api_url, error=str(exc).splitlines()[0][:200])
    return True, GITHUB_OK.format(api=settings.github_api_url, slug=app.slug, id=app.id)


def run_checks(environ: Mapping[str, str] | None = None) -> Iterator[Check]:
    try:
        settings = Settings.from_env(environ)
    except SettingsError as exc:
        for problem in exc.problems:
            yield False, problem
        return
    missing = settings.app_problems()
    for problem in missing:
        yield False, problem
    if settings.webhook_secrets:
        yield True, SECRET_OK.format(n=len(settings.webhook_secrets))
    key_ok = bool(settings.github_private_key.get_secret_value())
    if key_ok:
        key_ok, line = check_key(settings)
        yield key_ok, line
    yield check_database(settings.database_url)
    if key_ok and settings.github_app_id:
        yield check_github(settings)
    yield True, LLM_ON.format(model=settings.model) if settings.llm_enabled else LLM_OFF

"""GitHub App authentication: the App JWT (RS256 via PyGithub's `Auth.AppAuth`) and a cache of
installation tokens, refreshed shortly before they expire and dropped when GitHub says 401.

Tokens live only in memory, never on the durable queue or in logs.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from github import Auth

TOKEN_REFRESH_MARGIN = 300.0  # seconds before `expires_at` at which a cached token is replaced
JWT_EXPIRY = 540  # seconds; GitHub allows at most 600
BAD_KEY = "the GitHub App private key is not an unencrypted PEM private key (GITHUB_PRIVATE_KEY / _PATH)"


@dataclass(frozen=True)
class AppCredentials:
    """The App's id (numeric id or client id) and its PEM private key."""

    app_id: str
    private_key: str = field(repr=False)


@dataclass(frozen=True)
class InstallationToken:
    token: str = field(repr=False)
    expires_at: float  # epoch seconds


RequestHook = Callable[[dict[str, str]], None]


@functools.lru_cache(maxsize=8)
def signing_key(pem: str) -> PrivateKeyTypes:
    """The parsed App key (PKCS#1 or PKCS#8 PEM). Parsing checks the RSA key and costs ~0.1 s, so it
    happens once per key per process instead of once per JWT."""
    try:
        return serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(BAD_KEY) from exc


class HookedAppAuth(Auth.AppAuth):
    """`Auth.AppAuth` that reports every request it authenticates (for counting and tracing)."""

    def __init__(self, creds: AppCredentials, hook: RequestHook | None = None, jwt_expiry: int = JWT_EXPIRY) -> None:
        key = signing_key(creds.private_key)
        super().__init__(creds.app_id.strip(), lambda: key, jwt_expiry=jwt_expiry)  # type: ignore[arg-type,return-value]
        self._hook = hook

    def authentication(self, headers: dict[str, str]) -> None:
        if self._hook is not None:
            self._hook(headers)
        super().authentication(headers)


def make_app_auth(
    creds: AppCredentials, hook: RequestHook | None = None, *, jwt_expiry: int = JWT_EXPIRY
) -> Auth.AppAuth:
    """PyGithub App auth (JWT signed RS256 with the App key: iat = now-60 s, exp = now+jwt_expiry).

    `hook(headers)` runs once per request the auth signs; the gateway uses it to count calls and
    stamp the delivery id.
    """
    return HookedAppAuth(creds, hook, jwt_expiry)


class TokenCache:
    """Installation tokens by installation id, thread-safe, shared by every gateway of a process.

    `token_for` returns a cached token unless fewer than `refresh_margin` seconds remain, in which
    case it mints a new one with `mint()` (one minting at a time per installation).
    """

    def __init__(self, refresh_margin: float = TOKEN_REFRESH_MARGIN, clock: Callable[[], float] = time.time) -> None:
        self.refresh_margin = refresh_margin
        self._clock = clock
        self._tokens: dict[int, InstallationToken] = {}
        self._lock = threading.Lock()
        self._minting: dict[int, threading.Lock] = {}
        self.minted = 0  # how many tokens this cache obtained (tests and metrics)

    def get(self, installation_id: int) -> str | None:
        with self._lock:
            tok = self._tokens.get(installation_id)
        if tok is None or tok.expires_at - self._clock() <= self.refresh_margin:
            return None
        return tok.token

    def put(self, installation_id: int, token: InstallationToken) -> None:
        with self._lock:
            self._tokens[installation_id] = token

    def drop(self, installation_id: int, token: str | None = None) -> None:
        """Forget the installation's token (only if it is still `token`, when given)."""
        with self._lock:
            current = self._tokens.get(installation_id)
            if current is not None and (token is None or current.token == token):
                del self._tokens[installation_id]

    def token_for(self, installation_id: int, mint: Callable[[], InstallationToken]) -> str:
        cached = self.get(installation_id)
        if cached is not None:
            return cached
        with self._lock:
            lock = self._minting.setdefault(installation_id, threading.Lock())
        with lock:
            cached = self.get(installation_id)
            if cached is not None:
                return cached
            fresh = mint()
            self.put(installation_id, fresh)
            with self._lock:
                self.minted += 1
            return fresh.token


class WorkflowTokenCache(TokenCache):
    """A GitHub Actions workflow's `GITHUB_TOKEN` in place of minted installation tokens: one token, valid
    for the whole job, never minted (the workflow has no App key) and never dropped (a 401 is final)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def get(self, installation_id: int) -> str | None:
        return self._token

    def drop(self, installation_id: int, token: str | None = None) -> None:
        return None

    def token_for(self, installation_id: int, mint: Callable[[], InstallationToken]) -> str:
        return self._token


class InstallationTokenAuth(Auth.Auth):
    """PyGithub auth that takes the installation token from a `TokenCache` at every request."""

    def __init__(self, cache: TokenCache, installation_id: int, mint: Callable[[], InstallationToken],
                 hook: RequestHook | None = None) -> None:
        self._cache = cache
        self._installation_id = installation_id
        self._mint = mint
        self._hook = hook
        self.last_token: str | None = None

    @property
    def token_type(self) -> str:
        return "Bearer"

    @property
    def token(self) -> str:
        self.last_token = self._cache.token_for(self._installation_id, self._mint)
        return self.last_token

    def authentication(self, headers: dict[str, str]) -> None:
        token = self.token  # may mint first: that call is counted before this one
        if self._hook is not None:
            self._hook(headers)
        headers["Authorization"] = f"{self.token_type} {token}"

    @property
    def _masked_token(self) -> str:
        return "Bearer (installation token removed)"

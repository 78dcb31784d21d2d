"""App authentication against the fake: JWT accepted, tokens cached, refreshed, replaced after a 401."""

from __future__ import annotations

from collections.abc import Iterator

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.github.auth import AppCredentials, TokenCache
from bot.github.client import GitHubGateway
from bot.github.retry import GitHubError
from tests.support.fakegithub import FakeGitHub
from tests.support.fakegithub.clients import fast_retry, make_gateway

REPO = "acme/shop"
TOKENS = r"/access_tokens$"


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.add_pull(REPO, 1, {"app.py": ("a = 1\n", "a = 2\n")})
        yield fake


def test_app_jwt_is_accepted_and_well_formed(gh: FakeGitHub) -> None:
    gw = make_gateway(gh)
    assert gw.get_pull(REPO, 1).number == 1
    mint = gh.calls_to("POST", TOKENS)[0]
    assert mint.status == 201
    scheme, _, token = mint.headers["authorization"].partition(" ")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert scheme == "Bearer" and claims["iss"] == str(gh.app_id)  # PyJWT insists on a string
    assert claims["exp"] - claims["iat"] <= 600
    api_call = gh.calls_to("GET", r"/pulls/1$")[0]
    assert api_call.headers["authorization"].startswith("Bearer ghs_")


def test_a_client_id_works_as_the_issuer(gh: FakeGitHub) -> None:
    gw = GitHubGateway(gh.url, AppCredentials(gh.client_id, gh.private_key_pem), 1, token_cache=TokenCache(),
                       retry=fast_retry(), seconds_between_requests=0, seconds_between_writes=0)
    assert gw.get_pull(REPO, 1).number == 1
    token = gh.calls_to("POST", TOKENS)[0].headers["authorization"].split()[1]
    assert jwt.decode(token, options={"verify_signature": False})["iss"] == gh.client_id


def test_token_is_cached_across_calls_and_gateways(gh: FakeGitHub) -> None:
    cache = TokenCache()
    first, second = make_gateway(gh, cache=cache), make_gateway(gh, cache=cache, delivery_id="delivery-2")
    for _ in range(3):
        first.get_pull(REPO, 1)
        second.get_pull(REPO, 1)
    assert gh.count("POST", TOKENS) == 1
    assert cache.minted == 1


def test_token_is_refreshed_shortly_before_expiry(gh: FakeGitHub) -> None:
    now = [1_000_000.0]
    cache = TokenCache(refresh_margin=300, clock=lambda: now[0])
    gw = make_gateway(gh, cache=cache)
    gw.get_pull(REPO, 1)
    expires = cache._tokens[1].expires_at  # the fake issues tokens for an hour of real time
    now[0] = expires - 301
    gw.get_pull(REPO, 1)
    assert gh.count("POST", TOKENS) == 1
    now[0] = expires - 299
    gw.get_pull(REPO, 1)
    assert gh.count("POST", TOKENS) == 2


def test_expired_token_mid_review_gets_a_new_one_and_the_call_succeeds(gh: FakeGitHub) -> None:
    gw = make_gateway(gh)
    gw.get_pull(REPO, 1)
    gh.expire_tokens()
    gh.reset_calls()
    pull = gw.get_pull(REPO, 1)
    assert pull.number == 1
    assert [(c.method, c.status) for c in gh.calls] == [("GET", 401), ("POST", 201), ("GET", 200)]
    assert gw.calls == 2 + 3  # first mint + first GET, then the three above


def test_unknown_app_key_fails_clearly_without_looping(gh: FakeGitHub) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()).decode()
    gw = GitHubGateway(gh.url, AppCredentials(str(gh.app_id), other), 1, token_cache=TokenCache(),
                       retry=fast_retry(), seconds_between_requests=0, seconds_between_writes=0)
    with pytest.raises(GitHubError) as info:
        gw.get_pull(REPO, 1)
    assert info.value.status == 401
    assert gh.count("POST", TOKENS) == 1 and gh.count("GET") == 0


def test_a_broken_key_is_refused_up_front_without_echoing_it(gh: FakeGitHub) -> None:
    broken = "-----BEGIN RSA PRIVATE KEY-----\nbm90IGEga2V5\n-----END RSA PRIVATE KEY-----\n"
    with pytest.raises(ValueError, match="not an unencrypted PEM private key") as info:
        GitHubGateway(gh.url, AppCredentials(str(gh.app_id), broken), 1, token_cache=TokenCache())
    assert "bm90IGEga2V5" not in str(info.value)
    assert gh.calls == []


def test_secrets_stay_out_of_reprs_and_errors(gh: FakeGitHub) -> None:
    creds = AppCredentials(str(gh.app_id), gh.private_key_pem)
    assert "PRIVATE KEY" not in repr(creds)
    gw = make_gateway(gh)
    with pytest.raises(GitHubError) as info:
        gw.get_pull(REPO, 99)
    token = gh.calls_to("GET")[0].headers["authorization"].split()[1]
    assert info.value.status == 404 and token not in str(info.value) and token not in repr(info.value)

"""Webhook signature verification: HMAC-SHA256 over the raw body, constant time, rotating secrets."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

SIGNATURE_PREFIX = "sha256="
_HEX_LEN = 64


def sign(body: bytes, secret: bytes) -> str:
    """The `X-Hub-Signature-256` value GitHub sends for this body and secret."""
    return SIGNATURE_PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, secrets: Sequence[bytes]) -> bool:
    """True when `header` is a valid signature of `body` under any of `secrets`.

    Every secret is checked (no early exit) so the time taken does not reveal which one matched.
    """
    if not header or not secrets or not header.startswith(SIGNATURE_PREFIX):
        return False
    hex_part = header[len(SIGNATURE_PREFIX) :].strip()
    if len(hex_part) != _HEX_LEN:
        return False
    try:
        given = bytes.fromhex(hex_part)
    except ValueError:
        return False
    matched = False
    for secret in secrets:
        expected = hmac.new(secret, body, hashlib.sha256).digest()
        matched |= hmac.compare_digest(expected, given)
    return matched

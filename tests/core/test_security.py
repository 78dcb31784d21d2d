import hashlib
import hmac

from bot.core.security import sign, verify_signature

BODY = b'{"action":"opened","number":1}'


def test_a_signature_github_would_send_verifies():
    header = "sha256=" + hmac.new(b"s3cret", BODY, hashlib.sha256).hexdigest()
    assert sign(BODY, b"s3cret") == header
    assert verify_signature(BODY, header, [b"s3cret"])


def test_any_of_several_rotating_secrets_is_accepted():
    assert verify_signature(BODY, sign(BODY, b"new"), [b"old", b"new"])
    assert verify_signature(BODY, sign(BODY, b"old"), [b"old", b"new"])
    assert not verify_signature(BODY, sign(BODY, b"older"), [b"old", b"new"])


def test_a_body_changed_by_one_byte_fails():
    header = sign(BODY, b"s3cret")
    assert not verify_signature(BODY + b" ", header, [b"s3cret"])
    assert not verify_signature(BODY.replace(b"1", b"2"), header, [b"s3cret"])


def test_hostile_or_missing_headers_fail_without_raising():
    good = sign(BODY, b"k")
    for header in [None, "", "sha256=", "sha1=" + good[7:], good[7:], "sha256=" + "z" * 64,
                   "sha256=" + "é" * 64, good + "00", "sha256=" + good[7:].upper()[:63]]:
        assert not verify_signature(BODY, header, [b"k"]), header


def test_uppercase_hex_is_the_same_signature():
    assert verify_signature(BODY, "sha256=" + sign(BODY, b"k")[7:].upper(), [b"k"])


def test_no_secret_means_nothing_verifies():
    assert not verify_signature(BODY, sign(BODY, b""), [])

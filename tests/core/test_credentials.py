"""Credential masking: shapes found, ordinary code left alone, line structure of a diff kept."""

from __future__ import annotations

from bot.core.credentials import MASK, entropy, mask_credentials


def test_a_pem_block_in_a_diff_keeps_its_line_prefixes() -> None:
    diff = ("+x = 1\n+-----BEGIN PRIVATE KEY-----\n+MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n"
            "+-----END PRIVATE KEY-----\n+y = 2\n")
    masked = mask_credentials(diff)
    assert masked.count == 1 and "MIIEv" not in masked.text
    assert masked.text.count("\n") == diff.count("\n") and masked.text.endswith("+y = 2\n")


def test_low_entropy_or_referenced_values_are_not_secrets() -> None:
    for line in ('password = "changeme"', 'token = os.environ["T"]', 'secret_name = "my_app_secret"'):
        assert mask_credentials(line).count == 0, line
    assert mask_credentials('client_secret = "q8Z!x2Lm9Rt4Vw7Y"').text == f'client_secret = "{MASK}"'


def test_entropy_in_bits_per_character() -> None:
    assert entropy("aaaa") == 0.0 and entropy("abcd") == 2.0

"""Issue 14 item 9: secrets inside ordinary files never reach the model provider. Hostile change: an
AWS key pair in a settings module (and other credential shapes) in the diff, and read again through
the model's read_file tool; the summary says how many were masked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.credentials import mask_credentials
from bot.core.diff import parse_diff
from bot.core.repo import LocalGitRepo
from bot.specialist.budget import Budget
from bot.specialist.loop import SpecialistRequest, run_specialist
from tests.support.fakemodel import FakeModel, Reply, tool
from tests.support.gitrepo import GitRepo

ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SETTINGS = f'''"""Settings."""

AWS_ACCESS_KEY_ID = "{ACCESS_KEY_ID}"
AWS_SECRET_ACCESS_KEY = "{SECRET_KEY}"
TIMEOUT = 30
'''
SHAPES = {
    "github": "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    "slack": "xoxb-" + "1234567890-0987654321-AbCdEfGhIjKlMnOp",
    "stripe": "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
    "google": "AIza" + "SyA1bC2dE3fG4hI5jK6lM7nO8pQ9rS0tU1v",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "pem": "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0t\n"
           "-----END RSA PRIVATE KEY-----",
    "assigned": 'db_password = "Zx9!kQ2#mP7vL4nR"',
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_each_credential_shape_is_masked(name: str) -> None:
    value = SHAPES[name]
    masked = mask_credentials(f"config:\n{value}\nnext line\n")
    assert masked.count == 1
    secret_part = value.split('"')[1] if name == "assigned" else value.splitlines()[1 if name == "pem" else 0]
    assert secret_part not in masked.text and "next line" in masked.text


def test_ordinary_code_is_not_masked() -> None:
    code = ('token_url = "https://example.com/oauth/token"\nmax_tokens = 1024\npassword_field = "password_confirm"\n'
            'SECRET_KEY = os.environ["SECRET_KEY"]\napi_key = settings.API_KEY\n')
    assert mask_credentials(code).count == 0


def test_an_aws_key_pair_in_a_settings_module_never_reaches_the_model(tmp_path: Path) -> None:
    g = GitRepo(tmp_path / "r")
    g.write("app/settings.py", '"""Settings."""\n')
    base = g.commit("base")
    g.write("app/settings.py", SETTINGS)
    g.commit("keys")
    diff = g.git("diff", "--text", f"{base}..HEAD")
    fake = FakeModel([
        Reply([tool("read_file", path="app/settings.py")]),
        Reply([tool("finish_review", summary="Nothing to add.")]),
    ])
    result = run_specialist(SpecialistRequest(diff=diff, pr_title="Settings", pr_body=f"uses {ACCESS_KEY_ID}"),
                            client=fake.client(), repo=LocalGitRepo(str(g.root)), changes=parse_diff(diff),
                            budget=Budget(), sleep=lambda _s: None)
    sent = json.dumps(fake.requests)
    assert ACCESS_KEY_ID not in sent and SECRET_KEY not in sent and "[masked secret]" in sent
    assert "TIMEOUT = 30" in sent  # the rest of the file still reaches the model
    assert any(n.startswith("5 secrets masked") for n in result.notes), result.notes

"""`scale-review serve | worker | replay | doctor` as a user runs them."""

from __future__ import annotations

import json

import pytest

from bot.cli import main
from tests.support import webhooks as wh
from tests.support.service import SECRET

GITHUB_VARS = ("GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_PRIVATE_KEY_PATH", "GITHUB_WEBHOOK_SECRET",
               "GITHUB_API_URL", "DATABASE_URL", "ANTHROPIC_API_KEY")


@pytest.fixture
def clean_env(monkeypatch):
    for name in GITHUB_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def app_env(clean_env, fake_github, tmp_path):
    gh = fake_github
    clean_env.setenv("GITHUB_APP_ID", str(gh.app_id))
    clean_env.setenv("GITHUB_PRIVATE_KEY", gh.private_key_pem)
    clean_env.setenv("GITHUB_WEBHOOK_SECRET", SECRET)
    clean_env.setenv("GITHUB_API_URL", gh.url)
    clean_env.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    return gh


def test_serve_with_part_of_the_github_variables_says_which_are_missing(clean_env, capsys, tmp_path):
    # with none of them, serve runs the setup page instead (tests/app/test_setup_page.py)
    clean_env.setenv("GITHUB_APP_ID", "1")
    assert main(["serve", "--env-file", str(tmp_path / "absent.env")]) == 2
    err = capsys.readouterr().err
    assert "GITHUB_PRIVATE_KEY" in err and "GITHUB_WEBHOOK_SECRET" in err and "GITHUB_APP_ID" not in err


def test_worker_needs_no_webhook_secret_but_an_app(clean_env, capsys):
    assert main(["worker"]) == 2
    err = capsys.readouterr().err
    assert "GITHUB_APP_ID" in err and "WEBHOOK_SECRET" not in err


def test_doctor_reports_every_problem(clean_env, capsys):
    clean_env.setenv("GITHUB_PRIVATE_KEY", "-----BEGIN RSA PRIVATE KEY-----\nnot a key\n-----END RSA PRIVATE KEY-----")
    clean_env.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "PROBLEM  GITHUB_APP_ID is not set" in out
    assert "private key does not parse" in out
    assert "PROBLEM  database unreachable" in out


def test_doctor_passes_with_a_working_configuration(app_env, capsys):
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "PROBLEM" not in out
    assert f"App 'scale-review' (id {app_env.app_id})" in out


def test_replay_runs_a_saved_payload_through_the_same_path(app_env, tmp_path, capsys):
    head = app_env.store.repos[wh.REPO].pulls[7].head_sha
    saved = tmp_path / "delivery.json"
    saved.write_text(json.dumps(wh.pull_request("opened", head=head)))
    assert main(["replay", str(saved), "--event", "pull_request"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["outcome"] == "failure"
    assert app_env.check_runs(wh.REPO)[0]["status"] == "completed"


def test_replay_of_an_ignored_event_says_why(app_env, tmp_path, capsys):
    saved = tmp_path / "labeled.json"
    saved.write_text(json.dumps(wh.pull_request("labeled")))
    assert main(["replay", str(saved), "--event", "pull_request"]) == 0
    assert "ignored: pull_request action 'labeled'" in capsys.readouterr().out


def test_replay_of_a_broken_file_is_a_usage_error(app_env, tmp_path, capsys):
    saved = tmp_path / "broken.json"
    saved.write_text("{not json")
    assert main(["replay", str(saved), "--event", "pull_request"]) == 2
    assert main(["replay", str(tmp_path / "missing.json"), "--event", "pull_request"]) == 2

import pytest

from bot.core.settings import (
    DEFAULT_API_URL,
    DEFAULT_DATABASE_URL,
    MISSING_APP_ID,
    MISSING_KEY,
    MISSING_SECRET,
    Settings,
    SettingsError,
)

PEM = "-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----"


def test_defaults_with_only_the_three_github_variables():
    s = Settings.from_env({"GITHUB_APP_ID": "123", "GITHUB_PRIVATE_KEY": PEM, "GITHUB_WEBHOOK_SECRET": "x"})
    assert s.require_app() is s
    assert s.github_api_url == DEFAULT_API_URL
    assert s.database_url == DEFAULT_DATABASE_URL
    assert not s.llm_enabled
    assert s.log_level == "info" and s.log_format == "json"


def test_missing_variables_are_all_named():
    with pytest.raises(SettingsError) as exc:
        Settings.from_env({}).require_app()
    assert exc.value.problems == [MISSING_APP_ID, MISSING_KEY, MISSING_SECRET]


def test_key_from_a_file_and_escaped_newlines(tmp_path):
    path = tmp_path / "app.pem"
    path.write_text(PEM + "\n")
    s = Settings.from_env({"GITHUB_PRIVATE_KEY_PATH": str(path)})
    assert s.github_private_key.get_secret_value() == PEM
    s2 = Settings.from_env({"GITHUB_PRIVATE_KEY": PEM.replace("\n", "\\n")})
    assert s2.github_private_key.get_secret_value() == PEM


def test_an_unreadable_key_file_is_reported(tmp_path):
    with pytest.raises(SettingsError) as exc:
        Settings.from_env({"GITHUB_PRIVATE_KEY_PATH": str(tmp_path / "nope.pem")})
    assert "GITHUB_PRIVATE_KEY_PATH" in str(exc.value)


def test_rotating_secrets_are_split_on_commas():
    s = Settings.from_env({"GITHUB_WEBHOOK_SECRET": " new , old ,"})
    assert s.secret_bytes() == (b"new", b"old")


def test_secrets_never_appear_in_repr():
    s = Settings.from_env({"GITHUB_PRIVATE_KEY": PEM, "GITHUB_WEBHOOK_SECRET": "topsecret",
                           "ANTHROPIC_API_KEY": "sk-ant-xyz"})
    text = repr(s) + str(s.model_dump())
    assert "topsecret" not in text and "abc" not in text and "sk-ant-xyz" not in text
    assert s.llm_enabled


def test_bad_log_settings_are_refused():
    with pytest.raises(SettingsError) as exc:
        Settings.from_env({"SCALE_REVIEW_LOG_LEVEL": "loud", "SCALE_REVIEW_LOG_FORMAT": "xml"})
    assert len(exc.value.problems) == 2


def test_enterprise_api_url_and_database_url():
    s = Settings.from_env({"GITHUB_API_URL": "https://ghe.example.com/api/v3/",
                           "DATABASE_URL": "postgresql://u@h/db"})
    assert s.github_api_url == "https://ghe.example.com/api/v3"
    assert s.database_url == "postgresql://u@h/db"


def test_executor_id_for_scale_out():
    from bot.app.workflows import executor_id

    assert executor_id(Settings()) == "local"  # SQLite: one process
    pg = Settings.from_env({"DATABASE_URL": "postgresql://u@h/db", "SCALE_REVIEW_EXECUTOR_ID": "worker-0"})
    assert executor_id(pg) == "worker-0"
    assert executor_id(Settings(database_url="postgresql://u@h/db")) not in ("", "local")


def test_queue_and_rate_tuning_from_the_environment():
    s = Settings.from_env({"SCALE_REVIEW_WORKER_CONCURRENCY": "8", "SCALE_REVIEW_INSTALLATION_CONCURRENCY": "2",
                           "SCALE_REVIEW_INSTALLATION_REVIEWS_PER_MINUTE": "12",
                           "SCALE_REVIEW_QUEUE_POLLING_SECONDS": "0.5"})
    assert (s.worker_concurrency, s.installation_concurrency, s.installation_reviews_per_minute) == (8, 2, 12)
    assert s.queue_polling_seconds == 0.5
    assert Settings.from_env({}).queue_polling_seconds == Settings().queue_polling_seconds  # unset: the default


def test_bad_tuning_values_are_each_named():
    with pytest.raises(SettingsError) as exc:
        Settings.from_env({"SCALE_REVIEW_WORKER_CONCURRENCY": "many", "SCALE_REVIEW_INSTALLATION_CONCURRENCY": "0",
                           "SCALE_REVIEW_INSTALLATION_REVIEWS_PER_MINUTE": "1.5",
                           "SCALE_REVIEW_QUEUE_POLLING_SECONDS": "nan"})
    assert exc.value.problems == [
        "SCALE_REVIEW_WORKER_CONCURRENCY=many is not a number from 1 to 256",
        "SCALE_REVIEW_INSTALLATION_CONCURRENCY=0 is not a number from 1 to 256",
        "SCALE_REVIEW_INSTALLATION_REVIEWS_PER_MINUTE=1.5 is not a number from 1 to 10000",
        "SCALE_REVIEW_QUEUE_POLLING_SECONDS=nan is not a number from 0.05 to 60",
    ]

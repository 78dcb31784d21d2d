from bot.core.commands import FOCUS_NEEDS_AREAS, USAGE_ACCEPT, parse_command


def test_plain_command_runs_a_review():
    assert parse_command("/scale-review").kind == "run"
    assert parse_command("thanks!\n/scale-review please").kind == "invalid"
    assert parse_command("  /scale-review run").kind == "run"


def test_no_command_is_none():
    assert parse_command("looks good to me") is None
    assert parse_command("/scale-reviewer") is None
    assert parse_command("") is None


def test_quoted_or_fenced_commands_are_not_commands():
    assert parse_command("> /scale-review full\nI agree") is None
    assert parse_command("```\n/scale-review full\n```") is None


def test_help_full_focus():
    assert parse_command("/scale-review help").kind == "help"
    assert parse_command("/scale-review FULL").kind == "full"
    cmd = parse_command("/scale-review focus db, cache,db http")
    assert cmd.kind == "focus" and cmd.areas == ("db", "cache", "http")


def test_focus_needs_valid_areas():
    assert parse_command("/scale-review focus").error == FOCUS_NEEDS_AREAS
    bad = parse_command("/scale-review focus db;rm -rf")
    assert bad.kind == "invalid" and "area" in bad.error


def test_accept_needs_an_id_and_a_reason():
    cmd = parse_command("/scale-review accept SR-0123456789 the table has 40 rows")
    assert (cmd.kind, cmd.finding_id, cmd.reason) == ("accept", "SR-0123456789", "the table has 40 rows")
    assert parse_command("/scale-review accept SR-0123456789").error == USAGE_ACCEPT
    assert parse_command("/scale-review accept nonsense because").error == USAGE_ACCEPT


def test_accept_reason_is_capped():
    cmd = parse_command("/scale-review accept SR-0123456789 " + "x" * 5000)
    assert len(cmd.reason) == 500


def test_only_paid_commands_are_paid():
    assert not parse_command("/scale-review help").is_paid
    assert parse_command("/scale-review").is_paid
    assert parse_command("/scale-review accept SR-0123456789 ok").is_paid

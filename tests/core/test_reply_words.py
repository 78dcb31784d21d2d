"""Replies under an inline comment: which are commands for that finding, which are questions."""

from __future__ import annotations

from bot.core.reply_words import MAX_REPLY_CHARS, NO_MODEL_TEXT, parse_reply


def test_accept_and_dismiss_take_the_rest_of_the_line_as_the_reason():
    assert parse_reply("/scale-review accept the table holds 40 rows").reason == "the table holds 40 rows"
    ask = parse_reply("thanks!\n/scale-review false-positive ids come from a 5-item form")
    assert (ask.kind, ask.reason) == ("dismiss", "ids come from a 5-item form")
    assert parse_reply("/scale-review dismiss SR-0123456789 capped upstream").reason == "capped upstream"
    assert parse_reply("/scale-review accept SR-0123456789 ok").kind == "accept"


def test_a_decision_without_a_reason_is_refused():
    ask = parse_reply("/scale-review dismiss")
    assert ask.kind == "invalid" and "needs a reason" in ask.error


def test_explain_and_free_text_are_questions_and_quoted_commands_do_not_count():
    assert parse_reply("/scale-review explain").kind == "explain"
    assert parse_reply("why would this be slow?").kind == "question"
    assert parse_reply("> /scale-review dismiss quoted\nwhat about caching?").kind == "question"
    assert parse_reply("```\n/scale-review dismiss in code\n```").kind == "question"


def test_unknown_words_are_named_inertly_and_huge_replies_are_bounded():
    ask = parse_reply("/scale-review `@team <!-- x")
    assert ask.kind == "invalid" and "@\u200b" in ask.error and "<!--" not in ask.error
    assert len(parse_reply("x" * 100_000).text) == MAX_REPLY_CHARS


def test_the_no_model_answer_is_one_line_listing_the_commands():
    assert "\n" not in NO_MODEL_TEXT
    assert all(w in NO_MODEL_TEXT for w in ("accept <reason>", "dismiss <reason>", "false-positive", "explain"))

"""The specialist's plan in the in-progress check run."""

from __future__ import annotations

from bot.render.progress import MAX_STEPS, render_progress


def test_the_plan_reads_as_a_checklist_with_the_current_turn() -> None:
    plan = [{"step": "read app/orders.py", "status": "done"}, {"step": "check the loop", "status": "in_progress"},
            {"step": "look for an index", "status": "pending"}, {"step": "odd status", "status": "bogus"}]
    text = render_progress("a" * 40, plan, 2, 12)
    assert text.startswith("Reviewing `aaaaaaaaaaaa`: the specialist is on turn 2 of at most 12.")
    assert text.endswith("- [x] read app/orders.py\n- [ ] **check the loop** (now)\n- [ ] look for an index\n"
                         "- [ ] odd status")


def test_model_text_is_neutralised_and_long_plans_are_cut() -> None:
    hostile = [{"step": "ping @org/team about #1 <script>\n## heading | cell"}]
    text = render_progress("b" * 40, hostile, 1, 12)
    assert "@org" not in text and "<script>" not in text and "#1" not in text and "\n## heading" not in text
    many = [{"step": f"step {i}"} for i in range(MAX_STEPS + 5)]
    assert render_progress("c" * 40, many, 1, 12).endswith("- … 5 more")

"""`scale-review review`: review a local change offline and print it as text, Markdown, JSON or SARIF."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from bot.core.model import Conclusion, Review, Severity
from bot.review.local_review import LocalReviewError, run_local

FORMATS = ("text", "markdown", "json", "sarif")
EXIT_PASSED, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


def register(sub: Any) -> None:
    p = sub.add_parser("review", help="review a local change (base...head) of a git checkout")
    p.add_argument("--repo", default=".", help="path of the git checkout (default: .)")
    p.add_argument("--base", required=True, help="the base revision, e.g. main or origin/main")
    p.add_argument("--head", default="HEAD", help="the head revision (default: HEAD)")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    p.add_argument("--fail-on", choices=[s.value for s in Severity], help="fail at or above this severity")
    p.add_argument("--no-llm", action="store_true", help="static analyzers only, even with ANTHROPIC_API_KEY")
    p.add_argument("--config", help="config file (default: .github/scale-review.yml at the base revision)")
    p.add_argument("--rules", metavar="DIR",
                   help="the team's rules folder (default: .github/scale-review/rules at the base revision)")
    p.set_defaults(func=run)


def render(review: Review, fmt: str, *, color: bool, team_rules: list[Any] | None = None) -> str:
    if fmt == "json":
        from bot.render.json_out import render_json

        return render_json(review)
    if fmt == "sarif":
        from bot.render.sarif import render_sarif, rules_from_analyzers, team_rule_metas
        from bot.review.pipeline import builtin_analyzers

        return render_sarif(review, rules_from_analyzers(builtin_analyzers()) + team_rule_metas(team_rules or []))
    if fmt == "markdown":
        from bot.render.markdown import render_summary

        return render_summary(review)
    from bot.render.terminal import render_terminal

    return render_terminal(review, color=color)


def run(args: argparse.Namespace) -> int:
    use_llm = not args.no_llm and bool(os.environ.get("ANTHROPIC_API_KEY"))
    try:
        ran = run_local(
            args.repo,
            args.base,
            args.head,
            config_file=args.config,
            rules_dir=args.rules,
            fail_on=Severity(args.fail_on) if args.fail_on else None,
            use_llm=use_llm,
            env=os.environ,
        )
    except LocalReviewError as exc:
        print(f"scale-review: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    review = ran.review
    color = args.format == "text" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    out = render(review, args.format, color=color, team_rules=ran.team_rules)
    sys.stdout.write(out if out.endswith("\n") else out + "\n")
    return EXIT_FAILED if review.conclusion == Conclusion.failure else EXIT_PASSED

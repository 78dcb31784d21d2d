"""The static review of a pull request read through the GitHub API, publishing nothing.

What the GitHub Action runs where it may not write (a fork's pull request, `mode: summary`): the same
reads and the same pipeline as the App's review steps (config from the BASE commit, the diff, the
analyzers on both sides), but only GET requests and GraphQL reads, and no model.
"""

from __future__ import annotations

from bot.analyzers.time_budget import AnalysisBudget
from bot.core.diff import parse_diff
from bot.core.model import Review
from bot.core.repo_config import CONFIG_PATH, load_repo_config
from bot.github.client import GitHubGateway
from bot.github.repo_view import GitHubRepo
from bot.review.pipeline import assemble_review, run_static


def review_pull_static(gw: GitHubGateway, repo: str, number: int, *, config_path: str = CONFIG_PATH,
                       budget: AnalysisBudget | None = None, notes: tuple[str, ...] = ()) -> Review:
    """`repo`'s pull request `number`, reviewed by the analyzers; `notes` are added to the review's."""
    pr = gw.get_pull(repo, number)
    texts = gw.get_configs(repo, pr.base_sha, config_path)
    config, errors = load_repo_config(texts.repo, org_text=texts.org)
    diff = gw.get_diff(repo, number)
    changes = parse_diff(diff.text)
    analysis = run_static(changes, GitHubRepo(gw, repo, pr.head_sha), config,
                          base_repo=GitHubRepo(gw, repo, pr.base_sha), budget=budget)
    stats = {"head_sha": pr.head_sha, "mode": "static (read-only)"}
    review = assemble_review(changes, config, analysis, config_errors=errors,
                             degraded=diff.note if diff.missing else None, stats=stats)
    return review.model_copy(update={"notes": [*notes, *review.notes],
                                     "stats": {**review.stats, "github_calls": gw.calls}})

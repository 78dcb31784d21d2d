"""Review a change of a local git checkout: the offline path behind `scale-review review`.

The only module of the core that touches git and the filesystem; everything after the diff is
`bot.review.pipeline`. Errors a user can fix come out as LocalReviewError with a one-line message.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.analyzers.engine import AnalysisResult
from bot.analyzers.repo_rules import MAX_FILES as MAX_RULE_FILES
from bot.analyzers.repo_rules import RuleFiles
from bot.core.diff import ChangeSet, DiffError, parse_diff, without_files
from bot.core.model import Review, Severity
from bot.core.repo import LocalGitRepo, RepoAccessError
from bot.core.repo_config import CONFIG_PATH, MAX_CONFIG_BYTES, MAX_RULE_FILE_BYTES, RepoConfig, load_repo_config
from bot.core.settings import DEFAULT_MODEL
from bot.review.pipeline import BaseReads, assemble_review, run_static

if TYPE_CHECKING:
    from bot.specialist.loop import SpecialistResult

MAX_DIFF_BYTES = 200_000_000
GITATTRIBUTES = ".gitattributes"
NOTE_NO_MODEL = "specialist not run: no model credentials (set ANTHROPIC_API_KEY); static analysis only"
NOTE_LLM_OFF = "specialist not run: llm.enabled is false in the configuration"


class LocalReviewError(Exception):
    """A problem with the repository, a revision or the configuration (exit code 2)."""


def _git(root: str, *args: str) -> bytes:
    try:
        proc = subprocess.run(["git", "-C", root, *args], capture_output=True, check=False, timeout=300)
    except FileNotFoundError as exc:
        raise LocalReviewError("git is not installed or not on PATH") from exc
    except subprocess.TimeoutExpired as exc:
        raise LocalReviewError(f"git {args[0]} timed out") from exc
    if proc.returncode != 0:
        lines = proc.stderr.decode(errors="replace").strip().splitlines()
        raise LocalReviewError(lines[-1] if lines else f"git {args[0]} failed")
    return proc.stdout


def _check_repo(path: str) -> str:
    if not os.path.isdir(path):
        raise LocalReviewError(f"{path}: no such directory")
    try:
        top = _git(path, "rev-parse", "--show-toplevel").decode().strip()
    except LocalReviewError as exc:
        raise LocalReviewError(f"{path}: not a git repository") from exc
    return top


def _resolve(root: str, ref: str) -> str:
    try:
        return _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").decode().strip()
    except LocalReviewError as exc:
        raise LocalReviewError(f"unknown revision: {ref}") from exc


def _merge_base(root: str, base_sha: str, head_sha: str) -> str:
    """The commit `git diff base...head` compares with; `base` itself when there is none."""
    try:
        return _git(root, "merge-base", base_sha, head_sha).decode().strip() or base_sha
    except LocalReviewError:
        return base_sha


def _read_config_file(path: str) -> bytes:
    if not os.path.exists(path):
        raise LocalReviewError(f"{path}: config file not found")
    if not os.path.isfile(path):
        raise LocalReviewError(f"{path}: config path is not a file")
    with open(path, "rb") as fh:
        data = fh.read(MAX_CONFIG_BYTES + 1)
    if b"\0" in data[:8192]:
        raise LocalReviewError(f"{path}: config file is binary")
    return data


def load_config(root: str, base_sha: str, config_file: str | None) -> RepoConfig:
    """The config: an explicit file, else `.github/scale-review.yml` at the BASE revision."""
    if config_file:
        text: bytes | None = _read_config_file(config_file)
        source = config_file
    else:
        source = CONFIG_PATH
        try:
            text = LocalGitRepo(root, base_sha).read_bytes(CONFIG_PATH)
        except RepoAccessError:
            text = None
    config, errors = load_repo_config(text, source)
    if errors:
        raise LocalReviewError(errors[0] + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""))
    return config


def read_rule_folder(folder: str) -> RuleFiles:
    """The `*.yml`/`*.yaml` files directly in a rules folder on disk (`--rules DIR`), bounded like the App's."""
    if not os.path.isdir(folder):
        raise LocalReviewError(f"{folder}: no such rules folder")
    files: list[tuple[str, str]] = []
    errors: list[str] = []
    names = sorted(n for n in os.listdir(folder) if n.endswith((".yml", ".yaml")))
    for name in names[: MAX_RULE_FILES + 1]:
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            continue
        with open(path, "rb") as fh:
            data = fh.read(MAX_RULE_FILE_BYTES + 1)
        if len(data) > MAX_RULE_FILE_BYTES:
            errors.append(f"{path}: not read, over {MAX_RULE_FILE_BYTES:,} bytes")
            continue
        files.append((path, data.decode("utf-8", errors="replace")))
    return RuleFiles(repo=tuple(files), errors=tuple(errors))


@dataclass(frozen=True)
class LocalRun:
    """A local review and the team's own rules it ran (SARIF lists them with their metadata)."""

    review: Review
    team_rules: list[Any] = field(default_factory=list)


def review_local(repo_path: str, base: str, head: str = "HEAD", **kwargs: Any) -> Review:
    """Review base...head (what a pull request from head into base would show); see `run_local`."""
    return run_local(repo_path, base, head, **kwargs).review


def run_local(
    repo_path: str,
    base: str,
    head: str = "HEAD",
    *,
    config_file: str | None = None,
    rules_dir: str | None = None,
    fail_on: Severity | None = None,
    use_llm: bool = False,
    env: Mapping[str, str] | None = None,
    model_client: Any | None = None,
) -> LocalRun:
    """Review base...head (what a pull request from head into base would show).

    With `use_llm`, the specialist runs on `model_client`, else on the client the environment
    describes (ANTHROPIC_API_KEY, ...); without credentials the review stays static and says so.
    The team's rules come from `.github/scale-review/rules/` at the base revision, or from `rules_dir`.
    """
    started = time.perf_counter()
    root = _check_repo(repo_path)
    base_sha = _resolve(root, base)
    head_sha = _resolve(root, head)
    config = load_config(root, base_sha, config_file)
    raw = _git(root, "diff", "--no-color", "--no-ext-diff", "--no-textconv", "--text", "-M", f"{base_sha}...{head_sha}")
    if len(raw) > MAX_DIFF_BYTES:
        raise LocalReviewError(f"the diff is {len(raw):,} bytes, over the {MAX_DIFF_BYTES:,}-byte limit")
    try:
        changes = parse_diff(raw)
    except DiffError as exc:
        raise LocalReviewError(f"git produced a diff that could not be read: {exc}") from exc
    repo = LocalGitRepo(root, head_sha)
    base_repo = LocalGitRepo(root, _merge_base(root, base_sha, head_sha))  # the side `base...head` diffs against
    reads = None
    if rules_dir is not None:
        reads = BaseReads(read_rule_folder(rules_dir), _read_or_none(base_repo, GITATTRIBUTES))
    analysis = run_static(changes, repo, config, workers=min(os.cpu_count() or 1, 8), base_repo=base_repo,
                          base_reads=reads)
    stats: dict[str, object] = {"base": base_sha, "head": head_sha, "mode": "static"}
    specialist = None
    if use_llm:
        specialist = _run_specialist(root, head_sha, raw, changes, repo, config, analysis, env or {}, model_client)
        if specialist is None:
            stats["specialist"] = NOTE_NO_MODEL if config.llm.enabled else NOTE_LLM_OFF
        else:
            stats["mode"] = "static+specialist"
            stats.update(specialist.stats())
    review = assemble_review(changes, config, analysis, specialist=specialist, fail_on=fail_on, stats=stats)
    review.stats["seconds"] = round(time.perf_counter() - started, 3)
    return LocalRun(review, list(analysis.extra_rules))


def _read_or_none(view: LocalGitRepo, path: str) -> str | None:
    try:
        return view.read_text(path)
    except RepoAccessError:
        return None


def _run_specialist(
    root: str,
    head_sha: str,
    raw_diff: bytes,
    changes: ChangeSet,
    repo: LocalGitRepo,
    config: RepoConfig,
    analysis: AnalysisResult,
    env: Mapping[str, str],
    model_client: Any | None,
) -> SpecialistResult | None:
    """The model loop over the local snapshot; None when no model is configured or it is disabled."""
    if not config.llm.enabled:
        return None
    # imported here: the Anthropic SDK costs seconds to import and static reviews never need it
    from bot.review.specialist_facts import specialist_facts
    from bot.specialist.budget import Budget
    from bot.specialist.client import client_from_env
    from bot.specialist.loop import SpecialistRequest, run_specialist

    client = model_client or client_from_env(env)
    if client is None:
        return None
    subject, _, body = _git(root, "log", "-1", "--format=%s%n%b", head_sha).decode(errors="replace").partition("\n")
    diff = without_files(raw_diff.decode("utf-8", errors="replace"), set(analysis.generated))  # not sent either
    request = SpecialistRequest(
        diff=diff,
        candidates=list(analysis.findings),
        pr_title=subject.strip(),
        pr_body=body.strip(),
        focus=list(config.focus),
        instructions=dict(config.instructions),
        model=env.get("SCALE_REVIEW_MODEL") or config.llm.model or DEFAULT_MODEL,
        max_turns=config.llm.max_turns,
        facts=specialist_facts(repo, changes, diff, frozenset(analysis.generated)),
        min_confidence=config.gate.min_confidence,
    )
    return run_specialist(
        request, client=client, repo=repo, changes=changes, budget=Budget.from_config(config.llm)
    )

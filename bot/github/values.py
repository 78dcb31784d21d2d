"""Plain values the GitHub gateway returns: JSON-serialisable, so workflow steps can checkpoint them."""

from __future__ import annotations

from pydantic import BaseModel, Field


class PullInfo(BaseModel):
    number: int
    head_sha: str
    base_sha: str
    base_ref: str
    head_ref: str
    draft: bool = False
    state: str = "open"
    title: str = ""
    body: str = ""
    author: str = ""
    author_type: str = "User"
    head_repo: str | None = None  # owner/name of the head repo (None: the fork was deleted)
    base_repo: str = ""

    @property
    def is_fork(self) -> bool:
        return self.head_repo is None or self.head_repo.lower() != self.base_repo.lower()


class DiffResult(BaseModel):
    """The PR's unified diff. `source` is "diff" (media type) or "files" (rebuilt after 406 too_large);
    `missing` lists files GitHub showed no patch for (binary or too large), which could not be reviewed."""

    text: str
    source: str = "diff"
    missing: list[str] = Field(default_factory=list)
    note: str = ""  # one sentence for the summary when the diff is partial


COMPARE_MAX_FILES = 300  # the compare API lists at most this many changed files


class Comparison(BaseModel):
    """`base...head` from the compare API. `status`: ahead (head descends from base), behind,
    diverged (history rewritten), identical. `complete`: every changed file came with its patch
    (GitHub lists at most 300 files and omits the patch of binary or very large ones)."""

    status: str
    diff: str = ""
    files: int = 0
    missing: list[str] = Field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing and self.files < COMPARE_MAX_FILES


class ConfigTexts(BaseModel):
    """`.github/scale-review.yml` of the repo (at the base ref) and of the org's `.github` repo, and more."""

    repo: str | None = None
    org: str | None = None
    # read in the same query: the rules folders (`*.yml` directly in them, as (path, text)), the files that
    # could not be read, and the repo's `.gitattributes` at the base ref
    repo_rules: list[tuple[str, str]] = Field(default_factory=list)
    org_rules: list[tuple[str, str]] = Field(default_factory=list)
    rule_errors: list[str] = Field(default_factory=list)
    gitattributes: str | None = None


class DeliveryInfo(BaseModel):
    id: int
    guid: str
    event: str
    action: str | None = None
    status_code: int
    delivered_at: str
    redelivery: bool = False

"""The specialist's tools: read-only, confined to the repository snapshot, schemas from pydantic.

Each tool is a pydantic input model (its JSON schema is what the model sees, so schema and
validation cannot drift) plus a handler. Reads go through `check_path` and the RepoView (no `..`,
no symlinks out, no secrets files, binary and huge files refused) and every output is capped.
A bad call comes back as an `is_error` result; it never ends the review. `update_plan`,
`report_finding`, `judge_finding` and `finish_review` only record into the `ToolContext`; `judge_finding`
accepts only the ids code opened to judgement (low-confidence analyzer findings), once each.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.core.deadline import Deadline
from bot.core.model import Category, Severity
from bot.core.repo import RepoAccessError, RepoView, check_path
from bot.core.verdicts import MAX_REASON_CHARS
from bot.render.sanitize import strip_control
from bot.specialist.toolschema import tool_schema

MAX_OUTPUT_CHARS = 20_000
MAX_LINE_CHARS = 2_000
MAX_LIST_ENTRIES = 300
MAX_SEARCH_RESULTS = 60
MAX_MANY_FILES = 10
MAX_PATTERN_CHARS = 200
MAX_PLAN_STEPS = 20
MAX_FINDINGS = 40
TOOL_SECONDS = 10.0  # wall clock of one tool call; its loops stop there and say so
TOOL_STOPPED = "[stopped: this call's {seconds:g} s budget ran out; ask for fewer files]"

TRUNCATED = "\n[output truncated at {limit:,} characters; ask for a narrower range]"
FILE_CUT = "\n[stopped at line {line}: output cap reached; continue with start_line={next}]"
NO_MATCHES = "no matches"
RECORDED_FINDING = "recorded finding #{n}: {title}"
TOO_MANY_FINDINGS = "finding limit of {limit} reached; report only the most important ones"
NOT_IN_DIFF = (
    "{path}:{start}-{end} is not shown by the diff. Findings must point at head-side lines the diff shows. "
    "Shown ranges of {path}: {ranges}"
)
NOT_CHANGED = "{path} is not a file of this change; findings must point at changed files: {files}"
PLAN_UPDATED = "plan updated ({n} steps)"
JUDGED = "{verdict} recorded for {id}"
NOT_JUDGEABLE = ("{id} cannot be judged: only the low-confidence findings listed for judgement can ({ids}); "
                 "the gate takes every other finding as it is")
ALREADY_JUDGED = "{id} was judged already ({verdict}); one verdict per finding"
FINISHED = "review finished"
ANSWERED = "answer recorded"
UNKNOWN_TOOL = "unknown tool {name!r}; available: {names}"
BAD_INPUT = "invalid input for {name}: {problems}"
NESTED_QUANTIFIER = "a repeated group that is itself repeated, like (a+)+, is refused (it can run forever)"
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[+*}]\)\s*[+*{]")


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FindFilesInput(_Input):
    """List repository files matching a glob (e.g. 'src/**/*.py')."""

    glob: str = Field(max_length=300, description="fnmatch-style glob; '**/' also matches the top level")


class ReadFolderInput(_Input):
    """List one folder of the repository (files with sizes, sub-folders)."""

    path: str = Field(default="", max_length=500, description="repository-relative folder; empty for the root")


class ReadFileInput(_Input):
    """Read a file of the head revision, with line numbers."""

    path: str = Field(max_length=500)
    start_line: int = Field(default=1, ge=1)
    end_line: int | None = Field(default=None, ge=1, description="inclusive; empty for the end of the file")


class ReadManyFilesInput(_Input):
    """Read several whole files at once (output shared between them)."""

    paths: list[str] = Field(min_length=1, max_length=MAX_MANY_FILES)


class SearchTextInput(_Input):
    """Search file contents with a regular expression (Python syntax, case-sensitive)."""

    pattern: str = Field(max_length=MAX_PATTERN_CHARS)
    glob: str | None = Field(default=None, max_length=300, description="restrict to files matching this glob")


class PlanStep(_Input):
    step: str = Field(max_length=300)
    status: Literal["pending", "in_progress", "done"] = "pending"


class UpdatePlanInput(_Input):
    """Replace the review plan (shown live to the pull request's readers)."""

    steps: list[PlanStep] = Field(min_length=1, max_length=MAX_PLAN_STEPS)


class ReportFindingInput(_Input):
    """Report one scalability finding on head-side lines the diff shows."""

    category: Category
    severity: Severity
    path: str = Field(max_length=500)
    start_line: int = Field(ge=1)
    end_line: int = Field(ge=1)
    title: str = Field(max_length=300)
    evidence: str = Field(description="what you read and where (file:lines) that shows the problem")
    risk: str = Field(description="what happens at 10x / 100x load or data")
    suggestion: str | None = Field(default=None, description="exact replacement text for start_line..end_line")
    advice: str | None = Field(default=None, description="guidance when no safe mechanical rewrite exists")
    rollback: str = Field(default="", description="how to back the change out safely")
    monitoring: str = Field(default="", description="metric or alert that shows the problem")
    confidence: float = Field(
        default=0.8, ge=0.0, le=1.0,
        description="how sure the evidence makes you; below the repository's gate.min_confidence (0.8 by "
        "default) the finding is shown but never blocks the merge",
    )
    handoff: str | None = Field(default=None, description="another specialist who should look, if any")


class JudgeFindingInput(_Input):
    """Confirm or dismiss one low-confidence analyzer finding listed for judgement, by its id. Confirmed:
    it counts in the gate like a confident finding. Dismissed: it is left out of the inline comments and
    the gate, and listed in the summary with your reason. Once per finding."""

    id: str = Field(max_length=100, description="the finding's id, as shown in brackets in the list to judge")
    verdict: Literal["confirm", "dismiss"]
    reason: str = Field(min_length=1, max_length=MAX_REASON_CHARS,
                        description="the evidence for the verdict (file:lines read), one or two sentences")


class FinishReviewInput(_Input):
    """End the review with a summary and the plans for the change as a whole."""

    summary: str
    assumptions: list[str] = Field(default_factory=list)
    questions: list[str] = Field(default_factory=list)
    handoffs: list[str] = Field(default_factory=list)
    rollback_plan: str = ""
    monitoring_plan: str = ""


class AnswerInThreadInput(_Input):
    """Only when answering a reply under one of your findings: answer in its thread and say whether the finding
    stands (keep) or was wrong (withdraw). Only that finding can be withdrawn; nothing else changes from here."""

    answer: str = Field(min_length=1, max_length=4_000, description="your answer to the person who replied")
    decision: Literal["keep", "withdraw"]
    reason: str = Field(min_length=1, max_length=500, description="why the finding stands, or why it was wrong")


@dataclass
class ToolContext:
    """What tools read from and record into during one turn (all JSON-friendly)."""

    repo: RepoView
    shown: dict[str, list[list[int]]]  # path -> head-side line ranges the diff shows
    reads: dict[str, list[list[int]]] = field(default_factory=dict)
    plan: list[dict[str, str]] = field(default_factory=list)
    reported: list[dict[str, Any]] = field(default_factory=list)
    finished: dict[str, Any] | None = None
    tool_seconds: float = TOOL_SECONDS
    judgeable: list[str] = field(default_factory=list)  # ids open to `judge_finding` (set by code, not the model)
    verdicts: list[dict[str, Any]] = field(default_factory=list)  # {finding_id, verdict, reason}

    def record_read(self, path: str, start: int, end: int) -> None:
        self.reads.setdefault(path, []).append([start, end])


@dataclass(frozen=True)
class ToolOutcome:
    content: str
    is_error: bool = False


def _cap(text: str, limit: int = MAX_OUTPUT_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + TRUNCATED.format(limit=limit)


def number_lines(path: str, text: str, start: int, end: int | None, limit: int) -> tuple[str, int]:
    """`path` header plus 'NNNN | line' rows for start..end within `limit` chars; returns (text, last line)."""
    lines = text.splitlines()
    last = min(end or len(lines), len(lines))
    budget = limit - 200  # room for the header and the continuation note
    rows: list[str] = []
    for n in range(start, last + 1):
        line = lines[n - 1]
        row = f"{n:>5} | {line if len(line) <= MAX_LINE_CHARS else line[:MAX_LINE_CHARS] + ' [line cut]'}"
        budget -= len(row) + 1
        if budget < 0:
            last = n - 1
            rows.append(FILE_CUT.format(line=last, next=n))
            break
        rows.append(row)
    header = f"{path} (lines {start}-{last} of {len(lines)})"
    return "\n".join([header, *rows]), last


def find_files(ctx: ToolContext, args: FindFilesInput) -> str:
    files = ctx.repo.list_files(args.glob)
    shown = files[:MAX_LIST_ENTRIES]
    more = f"\n[{len(files) - len(shown)} more]" if len(files) > len(shown) else ""
    return _cap("\n".join(shown) + more) if shown else NO_MATCHES


def read_folder(ctx: ToolContext, args: ReadFolderInput) -> str:
    path = check_path(args.path) if args.path.strip() not in ("", ".", "/") else ""
    entries = ctx.repo.list_folder(path)[:MAX_LIST_ENTRIES]
    rows = [f"{e.path}/" if e.kind == "dir" else f"{e.path} ({e.kind}, {e.size:,} bytes)" for e in entries]
    return _cap("\n".join(rows)) if rows else "(empty)"


def read_file(ctx: ToolContext, args: ReadFileInput) -> str:
    path = check_path(args.path)
    text = ctx.repo.read_text(path)
    total = len(text.splitlines())
    if args.start_line > max(total, 1):
        raise RepoAccessError(f"{path} has {total} lines; start_line {args.start_line} is past the end")
    body, last = number_lines(path, text, args.start_line, args.end_line, MAX_OUTPUT_CHARS)
    ctx.record_read(path, args.start_line, last)
    return body


def read_many_files(ctx: ToolContext, args: ReadManyFilesInput) -> str:
    share = MAX_OUTPUT_CHARS // len(args.paths)
    deadline = Deadline.after(ctx.tool_seconds)
    parts: list[str] = []
    for raw in args.paths:
        if deadline.expired():
            parts.append(TOOL_STOPPED.format(seconds=ctx.tool_seconds))
            break
        try:
            path = check_path(raw)
            body, last = number_lines(path, ctx.repo.read_text(path), 1, None, share)
            ctx.record_read(path, 1, last)
            parts.append(body)
        except RepoAccessError as exc:
            parts.append(f"{raw}: error: {exc}")
    return "\n\n".join(parts)


def search_text(ctx: ToolContext, args: SearchTextInput) -> str:
    if _NESTED_QUANTIFIER.search(args.pattern):
        raise RepoAccessError(NESTED_QUANTIFIER)
    deadline = Deadline.after(ctx.tool_seconds)
    hits = ctx.repo.search_text(args.pattern, args.glob, max_results=MAX_SEARCH_RESULTS, deadline=deadline)
    return _cap("\n".join(f"{h.path}:{h.line}: {h.text}" for h in hits)) if hits else NO_MATCHES


def update_plan(ctx: ToolContext, args: UpdatePlanInput) -> str:
    ctx.plan = [s.model_dump() for s in args.steps]
    return PLAN_UPDATED.format(n=len(ctx.plan))


def _ranges_text(ranges: list[list[int]]) -> str:
    return ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in ranges) or "none"


def report_finding(ctx: ToolContext, args: ReportFindingInput) -> str:
    path = check_path(args.path)
    if path not in ctx.shown:
        raise RepoAccessError(NOT_CHANGED.format(path=path, files=", ".join(sorted(ctx.shown)[:30])))
    lo, hi = min(args.start_line, args.end_line), max(args.start_line, args.end_line)
    if not any(a <= hi and lo <= b for a, b in ctx.shown[path]):
        ranges = _ranges_text(ctx.shown[path])
        raise RepoAccessError(NOT_IN_DIFF.format(path=path, start=lo, end=hi, ranges=ranges))
    if len(ctx.reported) >= MAX_FINDINGS:
        raise RepoAccessError(TOO_MANY_FINDINGS.format(limit=MAX_FINDINGS))
    ctx.reported.append(args.model_dump(mode="json"))
    return RECORDED_FINDING.format(n=len(ctx.reported), title=args.title[:120])


def one_line_reason(text: str) -> str:
    """A verdict's reason as one bounded line without control characters (shown neutralised later)."""
    return " ".join(strip_control(text).split())[:MAX_REASON_CHARS]


def judge_finding(ctx: ToolContext, args: JudgeFindingInput) -> str:
    finding_id = args.id.strip()
    if finding_id not in ctx.judgeable:
        ids = ", ".join(ctx.judgeable[:30]) or "none"
        raise RepoAccessError(NOT_JUDGEABLE.format(id=one_line_reason(finding_id)[:100], ids=ids))
    earlier = next((v for v in ctx.verdicts if v["finding_id"] == finding_id), None)
    if earlier is not None:
        raise RepoAccessError(ALREADY_JUDGED.format(id=finding_id, verdict=earlier["verdict"]))
    reason = one_line_reason(args.reason)
    if not reason:
        raise RepoAccessError("a verdict needs a reason")
    ctx.verdicts.append({"finding_id": finding_id, "verdict": args.verdict, "reason": reason})
    return JUDGED.format(verdict=args.verdict, id=finding_id)


def finish_review(ctx: ToolContext, args: FinishReviewInput) -> str:
    ctx.finished = args.model_dump(mode="json")
    return FINISHED


def answer_in_thread(ctx: ToolContext, args: AnswerInThreadInput) -> str:
    ctx.finished = args.model_dump(mode="json")
    return ANSWERED


@dataclass(frozen=True)
class Tool:
    name: str
    model: type[_Input]
    handler: Callable[[ToolContext, Any], str]

    def definition(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.model.__doc__ or "", "input_schema": tool_schema(self.model)}


TOOLS: tuple[Tool, ...] = (
    Tool("update_plan", UpdatePlanInput, update_plan),
    Tool("find_files", FindFilesInput, find_files),
    Tool("read_folder", ReadFolderInput, read_folder),
    Tool("read_file", ReadFileInput, read_file),
    Tool("read_many_files", ReadManyFilesInput, read_many_files),
    Tool("search_text", SearchTextInput, search_text),
    Tool("report_finding", ReportFindingInput, report_finding),
    Tool("judge_finding", JudgeFindingInput, judge_finding),
    Tool("finish_review", FinishReviewInput, finish_review),
    Tool("answer_in_thread", AnswerInThreadInput, answer_in_thread),
)
# Reviews and replies in a thread (bot.specialist.reply) are sent the SAME tool definitions, so a reply reads the
# review's cached prefix (tools, system prompt) instead of paying for it again; what each may call differs.
READ_TOOLS = ("find_files", "read_folder", "read_file", "read_many_files", "search_text")
ALLOWED = {"review": frozenset(t.name for t in TOOLS) - {"answer_in_thread"},
           "reply": frozenset(READ_TOOLS) | {"answer_in_thread"}}
NOT_HERE = {"review": "{name} is only for answering a reply in a thread; this is a review",
            "reply": "{name} is not available when answering a reply; read, then call answer_in_thread"}
_BY_NAME = {t.name: t for t in TOOLS}


def tool_definitions(toolset: str = "review") -> list[dict[str, Any]]:
    """Every tool's definition (the same list for each toolset: see ALLOWED)."""
    return [t.definition() for t in TOOLS]


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in exc.errors()[:8])


def run_tool(ctx: ToolContext, name: str, raw_input: object, toolset: str = "review") -> ToolOutcome:
    """Validate and run one tool call; every failure becomes an is_error outcome for the model."""
    tool = _BY_NAME.get(name)
    if tool is None:
        names = ", ".join(n for n in _BY_NAME if n in ALLOWED[toolset])
        return ToolOutcome(UNKNOWN_TOOL.format(name=name, names=names), is_error=True)
    if name not in ALLOWED[toolset]:
        return ToolOutcome(NOT_HERE[toolset].format(name=name), is_error=True)
    try:
        args = tool.model.model_validate(raw_input)
    except ValidationError as exc:
        return ToolOutcome(BAD_INPUT.format(name=name, problems=_problems(exc)), is_error=True)
    try:
        return ToolOutcome(_cap(tool.handler(ctx, args)))
    except RepoAccessError as exc:
        return ToolOutcome(_cap(str(exc)), is_error=True)
    except Exception as exc:  # a tool must never end the review, nor make the turn (already paid) run again
        return ToolOutcome(f"{name} failed: {type(exc).__name__}: {exc}"[:2000], is_error=True)

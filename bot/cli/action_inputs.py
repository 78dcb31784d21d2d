"""What `scale-review action` reads: the workflow's `GITHUB_*` variables and the action's inputs.

Inputs reach the command as GitHub names them for actions, `INPUT_` + the input's name upper-cased with
its hyphens kept (`INPUT_FAIL-ON`, `INPUT_SARIF-FILE`), or as flags (`--fail-on`), a flag winning.
Every problem is collected and reported at once; nothing here touches the network.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.model import Severity
from bot.core.repo import RepoAccessError, check_path
from bot.core.repo_config import CONFIG_PATH

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_SERVER_URL = "https://github.com"
INPUTS = ("fail-on", "config", "anthropic-api-key", "max-cost-usd", "sarif-file", "mode")
MODES = ("auto", "summary")
FAIL_ON = ("never", "gate", *(s.value for s in Severity))
MAX_COST_CEILING = 50.0  # the config schema's own ceiling for llm.max_cost_usd
REQUIRED = ("GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "GITHUB_REPOSITORY", "GITHUB_TOKEN")
MISSING_VAR = "{name} is not set: run `scale-review action` as a step of a GitHub Actions workflow"
BAD_MODE = "mode={value!r}: use one of " + ", ".join(MODES)
BAD_FAIL_ON = "fail-on={value!r}: use one of " + ", ".join(FAIL_ON)
BAD_COST = f"max-cost-usd={{value!r}}: a number of dollars above 0 and at most {MAX_COST_CEILING:g}"
BAD_CONFIG = "config={value!r}: {why} (a path inside the repository, read at the base commit)"
BAD_REPOSITORY = "GITHUB_REPOSITORY={value!r} is not owner/name"


def input_env_name(name: str) -> str:
    """GitHub's variable for an action input: `fail-on` -> `INPUT_FAIL-ON` (hyphens kept)."""
    return "INPUT_" + name.replace(" ", "_").upper()


def add_input_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--fail-on", dest="fail_on", default=None,
                        help="fail the job: never (default), gate (when the check run fails) or a severity")
    parser.add_argument("--config", default=None, help=f"the config file in the repository (default {CONFIG_PATH})")
    parser.add_argument("--anthropic-api-key", dest="anthropic_api_key", default=None,
                        help="the model's key (prefer INPUT_ANTHROPIC-API-KEY: flags show in process lists)")
    parser.add_argument("--max-cost-usd", dest="max_cost_usd", default=None, help="a ceiling on model spend")
    parser.add_argument("--sarif-file", dest="sarif_file", default=None, help="also write the findings as SARIF")
    parser.add_argument("--mode", default=None, help="auto (default) or summary (publish nothing)")


@dataclass(frozen=True)
class ActionInputs:
    fail_on: str = "never"
    config_path: str = CONFIG_PATH
    anthropic_api_key: str = field(default="", repr=False)
    max_cost_usd: float | None = None
    sarif_file: str = ""
    mode: str = "auto"


@dataclass(frozen=True)
class WorkflowEnv:
    event_name: str
    event_path: str
    repository: str
    token: str = field(repr=False)
    api_url: str = DEFAULT_API_URL
    graphql_url: str = ""
    server_url: str = DEFAULT_SERVER_URL
    workspace: str = ""
    step_summary: str = ""
    run_id: str = ""
    run_attempt: str = ""
    actor: str = ""
    runner_temp: str = ""

    def path_in_workspace(self, path: str) -> Path:
        """A relative output path (the SARIF file) lands in the checkout, where upload steps look."""
        p = Path(path)
        return p if p.is_absolute() or not self.workspace else Path(self.workspace) / p


def read_inputs(args: argparse.Namespace, env: Mapping[str, str], problems: list[str]) -> ActionInputs:
    def value(name: str) -> str:
        flag = getattr(args, name.replace("-", "_"), None)
        return (flag if flag is not None else env.get(input_env_name(name), "")).strip()

    mode = value("mode").lower() or "auto"
    if mode not in MODES:
        problems.append(BAD_MODE.format(value=mode[:40]))
    fail_on = value("fail-on").lower() or "never"
    if fail_on not in FAIL_ON:
        problems.append(BAD_FAIL_ON.format(value=fail_on[:40]))
    cost: float | None = None
    if raw := value("max-cost-usd"):
        try:
            cost = float(raw)
        except ValueError:
            cost = math.nan
        if not 0 < cost <= MAX_COST_CEILING:  # NaN fails too
            problems.append(BAD_COST.format(value=raw[:40]))
            cost = None
    config_path = value("config") or CONFIG_PATH
    try:
        config_path = check_path(config_path)
    except RepoAccessError as exc:
        problems.append(BAD_CONFIG.format(value=config_path[:200], why=exc))
        config_path = CONFIG_PATH
    key = value("anthropic-api-key") or env.get("ANTHROPIC_API_KEY", "").strip()
    return ActionInputs(fail_on=fail_on, config_path=config_path, anthropic_api_key=key, max_cost_usd=cost,
                        sarif_file=value("sarif-file"), mode=mode)


def read_workflow_env(env: Mapping[str, str], problems: list[str]) -> WorkflowEnv:
    for name in REQUIRED:
        if not env.get(name, "").strip():
            problems.append(MISSING_VAR.format(name=name))
    repository = env.get("GITHUB_REPOSITORY", "").strip()
    if repository and (repository.count("/") != 1 or not all(repository.split("/"))):
        problems.append(BAD_REPOSITORY.format(value=repository[:200]))
    return WorkflowEnv(
        event_name=env.get("GITHUB_EVENT_NAME", "").strip(), event_path=env.get("GITHUB_EVENT_PATH", "").strip(),
        repository=repository, token=env.get("GITHUB_TOKEN", "").strip(),
        api_url=(env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/"),
        graphql_url=(env.get("GITHUB_GRAPHQL_URL") or "").rstrip("/"),
        server_url=(env.get("GITHUB_SERVER_URL") or DEFAULT_SERVER_URL).rstrip("/"),
        workspace=env.get("GITHUB_WORKSPACE", ""), step_summary=env.get("GITHUB_STEP_SUMMARY", ""),
        run_id=env.get("GITHUB_RUN_ID", ""), run_attempt=env.get("GITHUB_RUN_ATTEMPT", ""),
        actor=env.get("GITHUB_ACTOR", ""), runner_temp=env.get("RUNNER_TEMP", ""),
    )

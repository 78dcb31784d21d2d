"""`action.yml` and the example workflow against SchemaStore's published JSON Schemas (`github-action.json`,
`github-workflow.json`), and the action's inputs against what `scale-review action` reads."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
import yaml

from bot.cli.action_inputs import INPUTS, input_env_name
from tests.support.action_schema import require_schemas, schema
from tests.support.contract import ROOT

ACTION = ROOT / "action.yml"
WORKFLOW = ROOT / "examples" / "github-workflow" / "scale-review.yml"
RUNNER_ONLY = {"github-token", "python-version"}  # consumed by action.yml itself, not by the command


def load(path: Any) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    if True in data:  # YAML 1.1 reads the key `on` as true; GitHub reads it as "on"
        data["on"] = data.pop(True)
    return data


def errors(document: dict[str, Any], name: str) -> list[str]:
    validator = jsonschema.Draft7Validator(schema(name))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in validator.iter_errors(document)]


def test_schemastore_schema_refuses_what_github_refuses() -> None:
    require_schemas()
    good = load(ACTION)
    assert errors({**good, "runs": {"using": "composite"}}, "github-action")  # composite needs steps
    assert errors({k: v for k, v in good.items() if k != "description"}, "github-action")
    assert errors({**good, "brandin": {}}, "github-action")


def test_action_yml_is_valid_action_metadata() -> None:
    require_schemas()
    assert errors(load(ACTION), "github-action") == []


def test_the_example_workflow_is_a_valid_workflow_with_the_documented_permissions() -> None:
    require_schemas()
    workflow = load(WORKFLOW)
    assert errors(workflow, "github-workflow") == []
    assert workflow["permissions"] == {"checks": "write", "pull-requests": "write", "contents": "read"}
    assert set(workflow["on"]) == {"pull_request", "issue_comment"}


def test_the_readme_shows_the_example_workflow() -> None:
    readme = (ROOT / "README.md").read_text()
    assert WORKFLOW.read_text().split("\n", 1)[1].strip() in readme


def test_every_input_reaches_the_command_under_githubs_input_name() -> None:
    action = load(ACTION)
    declared = set(action["inputs"])
    assert declared - RUNNER_ONLY == set(INPUTS)
    [step] = [s for s in action["runs"]["steps"] if "scale-review\" action" in s.get("run", "")]
    env = step["env"]
    for name in INPUTS:
        assert env[input_env_name(name)] == f"${{{{ inputs.{name} }}}}", name
    assert env["GITHUB_TOKEN"] == "${{ inputs.github-token }}"
    assert action["inputs"]["github-token"]["default"] == "${{ github.token }}"


@pytest.mark.parametrize("step", ["Install scale-review", "Review"])
def test_untrusted_values_never_reach_a_shell_script(step: str) -> None:
    """Expressions in `run:` are pasted into the script before bash runs it; inputs go through `env:`."""
    [found] = [s for s in load(ACTION)["runs"]["steps"] if s.get("name") == step]
    assert "${{" not in found["run"]

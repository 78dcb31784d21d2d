"""GitHub's own artefacts from npm: webhook example payloads, the REST OpenAPI description, the GraphQL schema.

`.ci/run` installs `@octokit/webhooks-examples`, `@octokit/openapi` and `@octokit/graphql-schema` (pinned) under
`.cache/octokit/node_modules`; `SCALE_REVIEW_OCTOKIT_DIR` points elsewhere. Tests that need them call
`require_octokit()`: a skip with the reason on a laptop without them, a failure when CI=true.

    examples("pull_request")           -> [payload, ...] (GitHub's published examples for that event)
    RestDescription.load().problem(method, path, body) -> None | "why GitHub would refuse it"
    graphql_problems(query, variables) -> [] | ["why GitHub's GraphQL schema refuses it", ...]
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.support.fakegithub.contract import segments_match

ROOT = Path(__file__).resolve().parents[2]
OCTOKIT_ENV = "SCALE_REVIEW_OCTOKIT_DIR"
DEFAULT_OCTOKIT_DIR = ROOT / ".cache" / "octokit" / "node_modules"
EXAMPLES_FILE = Path("@octokit/webhooks-examples/api.github.com/index.json")
OPENAPI_FILE = Path("@octokit/openapi/generated/api.github.com.json")
GRAPHQL_FILE = Path("@octokit/graphql-schema/schema.graphql")
MISSING = ("GitHub's npm artefacts are not installed at {dir} (missing {file}); run the npm step of .ci/run "
           "or set " + OCTOKIT_ENV)
SPEC_URI = "urn:github-rest"
METHODS = ("get", "put", "post", "patch", "delete", "head", "options")
# Not REST: GitHub describes its GraphQL endpoint in a separate schema, so it is not in the REST file.
NOT_REST = frozenset({("POST", "/graphql")})


def octokit_dir(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get(OCTOKIT_ENV) or DEFAULT_OCTOKIT_DIR)


def artefact(relative: Path) -> Path | None:
    path = octokit_dir() / relative
    return path if path.is_file() else None


def require_octokit(*relatives: Path) -> None:
    """Skip (fail in CI) unless every named artefact is installed."""
    for relative in relatives or (EXAMPLES_FILE, OPENAPI_FILE):
        if artefact(relative) is None:
            message = MISSING.format(dir=octokit_dir(), file=relative)
            if os.environ.get("CI") == "true":
                pytest.fail(message)
            pytest.skip(message)


@cache
def _examples_index() -> dict[str, list[dict[str, Any]]]:
    path = artefact(EXAMPLES_FILE)
    if path is None:
        return {}
    return {entry["name"]: entry["examples"] for entry in json.loads(path.read_text())}


def examples(event: str) -> list[dict[str, Any]]:
    """GitHub's example payloads of one event (fresh copies: tests may patch them)."""
    return json.loads(json.dumps(_examples_index().get(event, [])))


def example_events() -> list[str]:
    return sorted(_examples_index())


@cache
def rest_spec() -> dict[str, Any] | None:
    path = artefact(OPENAPI_FILE)
    return json.loads(path.read_text()) if path else None


@dataclass(frozen=True)
class Operation:
    template: str
    method: str
    operation_id: str


@dataclass
class RestDescription:
    """The REST description as one validation resource: method + path lookup, request-body checks."""

    spec: dict[str, Any]
    _validators: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls) -> RestDescription:
        spec = rest_spec()
        if spec is None:
            raise FileNotFoundError(MISSING.format(dir=octokit_dir(), file=OPENAPI_FILE))
        return cls(spec)

    def template_for(self, path: str) -> str | None:
        """The best path template (most literal segments) matching a concrete path."""
        best: tuple[int, str] | None = None
        for template in self.spec["paths"]:
            score = segments_match(template, path)
            if score is not None and (best is None or score > best[0]):
                best = (score, template)
        return best[1] if best else None

    def operation(self, method: str, path: str) -> Operation | None:
        template = self.template_for(path)
        if template is None:
            return None
        op = self.spec["paths"][template].get(method.lower())
        return Operation(template, method.upper(), op["operationId"]) if isinstance(op, dict) else None

    def problem(self, method: str, path: str, body: Any) -> str | None:
        """None when GitHub's description accepts this request, else the reason."""
        if (method.upper(), path) in NOT_REST:
            return None
        template = self.template_for(path)
        if template is None:
            return f"{method} {path}: no such path in GitHub's REST description"
        op = self.operation(method, path)
        if op is None:
            allowed = sorted(m.upper() for m in self.spec["paths"][template] if m in METHODS)
            return f"{method} {path}: {template} allows only {', '.join(allowed)}"
        return self._body_problem(op, body)

    def _body_problem(self, op: Operation, body: Any) -> str | None:
        request = self.spec["paths"][op.template][op.method.lower()].get("requestBody")
        if request is None:
            return None if body is None else f"{op.operation_id}: takes no JSON body"
        if body is None:
            return f"{op.operation_id}: a body is required" if request.get("required") else None
        if "application/json" not in request.get("content", {}):
            return f"{op.operation_id}: the body is not described as JSON"
        error = next(iter(self._validator(op).iter_errors(body)), None)
        if error is None:
            return None
        where = "/".join(str(p) for p in error.absolute_path) or "body"
        return f"{op.operation_id}: {where}: {error.message}"[:1000]

    def _validator(self, op: Operation) -> Any:
        """OAS 3.0 write validator of the operation's body, the whole spec registered as one resource."""
        key = (op.template, op.method)
        if key not in self._validators:
            from openapi_schema_validator import OAS30WriteValidator
            from referencing import Registry
            from referencing.jsonschema import DRAFT4

            registry: Any = Registry().with_resource(SPEC_URI, DRAFT4.create_resource(self.spec))
            self._validators[key] = OAS30WriteValidator({"$ref": _pointer(*key)}, registry=registry)
        return self._validators[key]


def _pointer(template: str, method: str) -> str:
    escaped = template.replace("~", "~0").replace("/", "~1")
    return f"{SPEC_URI}#/paths/{escaped}/{method.lower()}/requestBody/content/application~1json/schema"


@cache
def rest_description() -> RestDescription:
    """The description loaded once per test process (~0.5 s, ~115 MB)."""
    return RestDescription.load()


@cache
def graphql_schema() -> Any:
    """GitHub's GraphQL schema (graphql-core), built once per process (~2 s), or None when not installed.

    The published SDL defines two fields of `EnterpriseOwnerInfo` twice, which graphql-core's SDL check
    refuses; `assume_valid_sdl` skips only that check (the later definition wins, both are identical)."""
    path = artefact(GRAPHQL_FILE)
    if path is None:
        return None
    from graphql import build_schema

    return build_schema(path.read_text(), assume_valid_sdl=True)


def graphql_problems(query: str, variables: dict[str, Any] | None = None, schema: Any = None) -> list[str]:
    """Why GitHub's schema refuses this document and its variables (empty when it accepts both): syntax,
    fields, arguments, types, and each variable's value against its declared type."""
    from graphql import GraphQLError, OperationDefinitionNode, parse, validate
    from graphql.execution.values import get_variable_values

    schema = schema if schema is not None else graphql_schema()
    if schema is None:
        raise FileNotFoundError(MISSING.format(dir=octokit_dir(), file=GRAPHQL_FILE))
    try:
        document = parse(query)
    except GraphQLError as err:
        return [err.message]
    errors = [e.message for e in validate(schema, document)]
    if errors:
        return errors
    for op in document.definitions:
        if isinstance(op, OperationDefinitionNode):
            coerced = get_variable_values(schema, op.variable_definitions or (), variables or {})
            if isinstance(coerced, list):
                errors += [e.message for e in coerced]
    return errors

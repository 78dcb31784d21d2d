"""Prompts as versioned data: `prompts/<name>.md` with an `id`/`version` header, rendered by name.

A prompt file starts with a YAML header between `---` lines carrying `id` and `version`; the
body is a `string.Template` filled with named variables only. Rendering refuses a missing or an
unexpected variable, and substituted values are never re-read as template text, so text from a
pull request cannot inject placeholders.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

PROMPTS_PACKAGE = "prompts"


class PromptError(ValueError):
    """A prompt file is malformed or was rendered with the wrong variables."""


@dataclass(frozen=True)
class Prompt:
    name: str
    id: str
    version: str
    body: str

    @property
    def ref(self) -> str:
        """`id@version`, written into the check summary and stats."""
        return f"{self.id}@{self.version}"

    def variables(self) -> set[str]:
        names: set[str] = set()
        for _, named, braced, _ in string.Template.pattern.findall(self.body):
            if named or braced:
                names.add(named or braced)
        return names

    def render(self, **values: object) -> str:
        wanted = self.variables()
        missing = wanted - values.keys()
        extra = values.keys() - wanted
        if missing or extra:
            raise PromptError(
                f"prompt {self.name}: missing variables {sorted(missing)}, unexpected {sorted(extra)}"
            )
        return string.Template(self.body).substitute({k: str(v) for k, v in values.items()})


def parse_prompt(name: str, text: str) -> Prompt:
    """Split the `---` header from the body and check `id` and `version`."""
    if not text.startswith("---\n"):
        raise PromptError(f"prompt {name}: must start with a '---' header")
    header, sep, body = text[4:].partition("\n---\n")
    if not sep:
        raise PromptError(f"prompt {name}: header is not closed with '---'")
    try:
        meta = yaml.safe_load(header) or {}
    except yaml.YAMLError as exc:
        raise PromptError(f"prompt {name}: header is not valid YAML: {exc}") from exc
    if not isinstance(meta, dict) or not meta.get("id") or meta.get("version") is None:
        raise PromptError(f"prompt {name}: header needs 'id' and 'version'")
    return Prompt(name=name, id=str(meta["id"]), version=str(meta["version"]), body=body.strip() + "\n")


@lru_cache(maxsize=32)
def load_prompt(name: str) -> Prompt:
    """Load `prompts/<name>.md` from the installed package data."""
    try:
        text = resources.files(PROMPTS_PACKAGE).joinpath(f"{name}.md").read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError) as exc:
        raise PromptError(f"prompt {name}: not found in {PROMPTS_PACKAGE}/") from exc
    return parse_prompt(name, text)

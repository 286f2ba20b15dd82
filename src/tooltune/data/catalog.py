"""Tool catalogs for the generator: the bundled training and held-out catalogs, or a user's tools.

A catalog entry is an OpenAI-style function schema plus ``domain`` and generation ``hints``
(phrases, value sources, clarifying questions); only the schema ever reaches a prompt. The
bundled files live in ``tooltune/data/catalogs/``:

- ``train.json`` / ``eval.json``: tools; no evaluation tool, nor a near-duplicate, is in training.
- ``values.json``: value banks (``"@city"`` in a hint draws from bank ``city``).
- ``refusals.json``: harmful requests by category, refusal texts and out-of-scope requests, each
  split into ``train`` and ``eval`` so the held-out set has kinds of harm training never showed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..schema import Tool, ToolSchemaError

__all__ = ["CatalogTool", "load_catalog", "load_banks", "load_refusals", "load_user_tools", "humanize"]

# Imperative verbs that let a tool description double as a request ("Search for restaurants...").
_IMPERATIVE = {
    "get", "search", "find", "create", "send", "calculate", "compute", "convert", "list", "look", "check", "book",
    "add", "delete", "remove", "update", "translate", "set", "schedule", "fetch", "retrieve", "generate", "track",
    "cancel", "play", "start", "stop", "show", "estimate", "summarize", "compare", "reserve", "order", "analyze",
}


def humanize(name: str) -> str:
    """``target_language`` → ``target language``; ``maxResults`` → ``max results``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return " ".join(spaced.replace("_", " ").replace("-", " ").split()).lower()


@dataclass
class CatalogTool:
    """A tool with what the generator needs to phrase requests for it."""

    tool: Tool
    domain: str = "general"
    intents: list[str] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    ask: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.tool.name

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> "CatalogTool":
        tool = Tool.from_dict(obj)
        hints = obj.get("hints") or {}
        entry = cls(
            tool=tool,
            domain=obj.get("domain", "general"),
            intents=list(hints.get("intents") or []),
            templates=list(hints.get("templates") or []),
            slots=dict(hints.get("slots") or {}),
            values=dict(hints.get("values") or {}),
            ask=dict(hints.get("ask") or {}),
        )
        if not entry.intents:
            entry.intents = _derived_intents(tool)
        return entry


def _derived_intents(tool: Tool) -> list[str]:
    """Verb phrases for a user's tool that came without hints: its name, and its description if imperative."""
    intents = [humanize(tool.name)]
    sentence = tool.description.strip().split(". ")[0].rstrip(".").strip()
    if sentence and sentence.split()[0].lower() in _IMPERATIVE and len(sentence.split()) <= 14:
        intents.append(sentence[0].lower() + sentence[1:])
    intents.append(f"use {tool.name}")
    return intents


def _package_json(name: str) -> Any:
    return json.loads(resources.files("tooltune.data").joinpath("catalogs", name).read_text(encoding="utf-8"))


@lru_cache(maxsize=2)
def load_catalog(split: str) -> tuple[CatalogTool, ...]:
    """The bundled catalog for ``split`` (``train`` or ``eval``)."""
    if split not in ("train", "eval"):
        raise ValueError(f"catalog split must be 'train' or 'eval', got {split!r}")
    return tuple(CatalogTool.from_dict(obj) for obj in _package_json(f"{split}.json"))


@lru_cache(maxsize=1)
def load_banks() -> dict[str, list[Any]]:
    return _package_json("values.json")


@lru_cache(maxsize=1)
def load_refusals() -> dict[str, Any]:
    return _package_json("refusals.json")


def load_user_tools(path: str | Path) -> list[CatalogTool]:
    """A user's tools: a JSON list of OpenAI function schemas (or ``{"tools": [...]}``), hints optional."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read tools ({exc}); expected a JSON list of OpenAI function schemas") from exc
    items = data.get("tools") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise ValueError(f"{path}: expected a non-empty JSON list of tools (or an object with a 'tools' list)")
    tools: list[CatalogTool] = []
    for i, item in enumerate(items):
        try:
            # OpenAI's wrapper keeps hints beside "function"; flatten so both forms carry them.
            flat = dict(item["function"], **{k: v for k, v in item.items() if k not in ("type", "function")}) if isinstance(item, dict) and isinstance(item.get("function"), dict) else item
            tools.append(CatalogTool.from_dict(flat))
        except (ToolSchemaError, TypeError) as exc:
            raise ValueError(f"{path}: tool [{i}]: {exc}") from exc
    names = [t.name for t in tools]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"{path}: tool names must be unique; repeated: {', '.join(duplicates)}")
    return tools

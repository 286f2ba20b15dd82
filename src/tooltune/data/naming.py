"""Tool names in the styles agents give them: ``get_stock_price`` (snake case, the catalogs'),
``getStockPrice`` (camel case, common in JavaScript agents) and ``markets.get_stock_price``
(dotted, a namespace before the name as MCP servers and plugin hosts write it).

A model that only ever saw snake-case names learns what a tool name looks like as well as what it
means; renaming a share of rows (``data generate --name-styles``) keeps the name a label to copy
from the list. A row is renamed as a whole (its tool list, system prompt, calls, earlier turns and
``extra_info``), so every place that names a tool agrees.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..schema import Tool, format_tool_calls, parse_tool_calls, render_system_prompt

__all__ = ["NAME_STYLES", "styled", "name_style", "restyle"]

# The styles a renamed row takes, drawn evenly; "snake" is the catalogs' own.
NAME_STYLES = ("camel", "dotted")


def styled(name: str, style: str, namespace: str = "") -> str:
    """``name`` (snake case) in ``style``; dotted needs a ``namespace`` (a catalog tool's domain)
    and falls back to camel case without one."""
    if style == "dotted" and namespace and namespace != "general":
        return f"{namespace}.{name}"
    if style in ("camel", "dotted"):
        head, *rest = name.split("_")
        return head + "".join(part[:1].upper() + part[1:] for part in rest)
    return name


def name_style(names: list[str]) -> str:
    """The style of a list of tool names: ``dotted`` when one holds a dot, ``camel`` when one
    joins words by capitals without underscores, else ``snake``."""
    if any("." in n for n in names):
        return "dotted"
    if any(re.search(r"[a-z0-9][A-Z]", n) and "_" not in n for n in names):
        return "camel"
    return "snake"


def restyle(raw: dict[str, Any], style: str, namespaces: dict[str, str]) -> bool:
    """Rename every tool ``raw`` (a generated row, in place) names into ``style``; ``namespaces``
    maps a tool to its domain. False, with the row untouched, when two of its names would become one."""
    extra = raw.get("extra_info") or {}
    listed = [t["function"]["name"] for t in raw.get("tools", [])]
    named = [*listed, *[extra[k] for k in ("tool", "near") if isinstance(extra.get(k), str)], *(extra.get("calls") or [])]
    renamed = {n: styled(n, style, namespaces.get(n, "")) for n in dict.fromkeys(named)}
    if len(set(renamed.values())) < len(renamed):
        return False
    for tool in raw.get("tools", []):
        tool["function"]["name"] = renamed[tool["function"]["name"]]
    raw["prompt"][0]["content"] = render_system_prompt([Tool.from_dict(t) for t in raw["tools"]])
    for message in raw["prompt"][1:]:
        calls = parse_tool_calls(message["content"]) if message["role"] == "assistant" else None
        if calls:
            message["content"] = format_tool_calls([{"name": renamed.get(c.name, c.name), "arguments": c.arguments} for c in calls])
    truth = raw["reward_model"]["ground_truth"]
    calls = parse_tool_calls(truth) if raw.get("behavior") == "execute" else None
    if calls:  # written as the generator writes a truth: a JSON list of calls
        raw["reward_model"]["ground_truth"] = json.dumps([{"name": renamed.get(c.name, c.name), "arguments": c.arguments} for c in calls], ensure_ascii=False)
    for key in ("tool", "near"):
        if isinstance(extra.get(key), str):
            extra[key] = renamed[extra[key]]
    if extra.get("calls"):
        extra["calls"] = [renamed[n] for n in extra["calls"]]
    extra["names"] = name_style(list(renamed.values()))  # what the names became (dotted falls back to camel without a namespace)
    return True

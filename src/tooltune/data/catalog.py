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
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..schema import Tool, ToolSchemaError

__all__ = ["CatalogTool", "load_catalog", "load_banks", "load_refusals", "load_user_tools", "humanize", "name_words", "read_passing", "passing_problems"]

# Imperative verbs that let a tool description double as a request ("Search for restaurants...").
_IMPERATIVE = {
    "get", "search", "find", "create", "send", "calculate", "compute", "convert", "list", "look", "check", "book",
    "add", "delete", "remove", "update", "translate", "set", "schedule", "fetch", "retrieve", "generate", "track",
    "cancel", "play", "start", "stop", "show", "estimate", "summarize", "compare", "reserve", "order", "analyze",
    "read", "write", "edit", "move", "open", "close", "merge", "push", "query", "run", "upload", "download", "navigate",
    "take", "capture", "fill", "select", "post", "reply", "comment", "fork", "assign", "describe", "invite", "lookup",
    "insert", "append", "rename", "copy", "publish", "subscribe", "enable", "disable", "archive", "restore", "submit",
    "make", "draft", "resolve", "plan", "record", "log", "predict", "detect", "classify", "extract", "explain",
    "scale", "drain", "patch", "apply", "install", "uninstall", "deploy", "restart", "click", "hover", "press", "wait",
    "resize", "crawl", "scrape", "evaluate", "load", "save", "sync", "share", "block",
    "drag", "drop", "type", "handle", "execute", "upgrade", "reconnect", "switch", "unstage", "compress", "emulate",
    "manage", "interact", "expand", "scroll", "focus", "kill", "cordon", "rollback", "do", "clean", "ship",
}
# A description's first word that is a verb's stand-in: "Performs a web search" asks to do one.
_VERB_STANDS = {"perform": "do", "performs": "do", "cleanup": "clean up", "cleans": "clean"}
# Verbs that are as often nouns ("monitor", "forward", "record"): a verb only as a description's
# first word ("Monitors a site"), never inside a tool's name (firecrawl_monitor_create).
_AMBIGUOUS_VERBS = {
    "register", "ping", "pick", "choose", "verify", "validate", "approve", "reject", "pause", "resume", "transfer",
    "pay", "refund", "mark", "tag", "label", "notify", "remind", "sort", "filter", "format", "parse", "encode",
    "decode", "render", "plot", "export", "import", "connect", "join", "follow", "like", "rate", "review", "test",
    "build", "commit", "clone", "release", "monitor", "measure", "simulate", "solve", "recommend", "suggest",
    "rank", "identify", "transcribe", "rewrite", "answer", "ask", "accept", "decline", "confirm", "lock", "unlock",
    "turn", "toggle", "adjust", "mute", "buy", "sell", "attach", "backup", "refresh", "trigger", "forward",
    "shorten", "geocode", "locate", "route", "count", "download", "invoke", "request", "reset", "clear", "map",
}


def humanize(name: str) -> str:
    """``target_language`` → ``target language``; ``maxResults`` → ``max results``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return " ".join(spaced.replace("_", " ").replace("-", " ").split()).lower()


def name_words(name: str) -> list[str]:
    """``maxResults`` / ``max_results`` / ``max-results`` -> ["max", "results"] (no punctuation kept,
    unlike :func:`humanize`: for matching words of a name, not for saying it)."""
    return re.findall(r"[a-z0-9]+", re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower())


@dataclass
class CatalogTool:
    """A tool with what the generator needs to phrase requests for it."""

    tool: Tool
    domain: str = "general"
    intents: list[str] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)
    # Requests written whole with optional values said in passing ("any [mid-priced](price_range=moderate)
    # bbq in {location}?"): "{name}" is a drawn value, "[words](name=value)" a value in the writer's own words.
    passing: list[str] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    ask: dict[str, str] = field(default_factory=dict)
    hinted: bool = False  # came with generation hints (the bundled catalogs); without, values come from the schema alone

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
            passing=list(hints.get("passing") or []),
            slots=dict(hints.get("slots") or {}),
            values=dict(hints.get("values") or {}),
            ask=dict(hints.get("ask") or {}),
            hinted=bool(hints),
        )
        if not entry.intents:
            entry.intents = _derived_intents(tool)
        return entry


_LITERAL = re.compile(r"\[([^\[\]]+)\]\(([A-Za-z_][A-Za-z0-9_]*)=([^()]*)\)")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def read_passing(template: str) -> tuple[list[str], dict[str, Any], dict[str, str], str]:
    """An in-passing template's parts: (drawn names, fixed values, the words for each fixed value,
    the template with each ``[words](name=value)`` replaced by its words). A value is JSON where it
    parses (``true``, ``3``, ``"a b"``), else the bare string (``moderate``)."""
    fixed: dict[str, Any] = {}
    words: dict[str, str] = {}

    def literal(match: re.Match) -> str:
        text, name, raw = match.group(1), match.group(2), match.group(3).strip()
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        fixed[name], words[name] = value, text
        return text

    text = _LITERAL.sub(literal, template)
    return _PLACEHOLDER.findall(text), fixed, words, text


def passing_problems(ct: "CatalogTool", template: str) -> list[str]:
    """What is wrong with one of ``ct``'s in-passing templates (empty: nothing): every name a
    parameter, said once, every required one said, an optional one where the tool has any, fixed
    values valid."""
    from .validate import schema_validator  # a catalog check, not on the generator's path

    names, fixed, _, text = read_passing(template)
    props, required = ct.tool.properties, set(ct.tool.required)
    said = names + [m.group(2) for m in _LITERAL.finditer(template)]  # a literal said twice is two entries here
    problems = [f"'{n}' is not a parameter of {ct.name}" for n in said if n not in props]
    problems += [f"'{n}' is said twice" for n in sorted({n for n in said if said.count(n) > 1})]
    problems += [f"required '{n}' is not said" for n in sorted(required - set(said))]
    if set(props) - required and not set(said) - required:
        problems.append("no optional value is said")
    if re.search(r"\w\{|\}\w", text):  # "x{quantity}", "{grams}g": a value said in words ("xtwo", "fiftyg") runs into it
        problems.append("a {placeholder} touches a letter or digit; put a space or a word between")
    if re.search(r"[\[\]{}]", _PLACEHOLDER.sub("", text)):
        problems.append("a bracket or brace is left over (a literal is written [words](name=value))")
    for name, value in fixed.items():
        if name not in props:
            continue
        # The one validator data validate uses: formats, $refs and the schema's own draft too.
        validator = schema_validator(json.dumps(props[name], sort_keys=True), json.dumps(ct.tool.parameters, sort_keys=True))
        if validator is None:
            problems.append(f"'{name}' has no valid JSON Schema to check {value!r} against; fix the parameter's schema")
        else:
            problems += [f"'{name}' = {value!r}: {e.message}" for e in validator.iter_errors(value)]
    return problems


def _derived_intents(tool: Tool) -> list[str]:
    """Verb phrases for a user's tool that came without hints, from its description and name.

    A request asks for something; it never names the function ("use get_weather"), so a name
    that does not start with a verb becomes "look up the <name>"."""
    intents = []
    sentence = re.split(r"(?<=[.!?])\s|\n", tool.description.strip())[0].rstrip(".").strip()
    words = sentence.split()
    if len(words) > 16:  # a long first sentence: its first clause ("Get Lighthouse scores, failing audits, ...")
        words = re.split(r",|;|:| — | - |\(", sentence)[0].split()
    if len(words) > 1 and words[0].lower().endswith("ly") and _imperative(words[1]):
        words = words[1:]  # "Permanently delete a monitor"
    if words and words[0].lower() in _VERB_STANDS:
        words = [*_VERB_STANDS[words[0].lower()].split(), *words[1:]]
        if len(words) > 1 and words[0] == "do" and _imperative(words[1]):
            words = words[1:]  # "Perform click on a web page", "Perform drag and drop ..."
    name_words = humanize(tool.name).split()
    if len(name_words) > 1 and not _imperative(name_words[0]) and _imperative(name_words[1]):
        name_words = name_words[1:]  # a prefix before the verb ("API-create-a-page", "kubectl_scale")
    # A verb the lists do not know is still a verb where the description says the name's first word
    # inflected: register_user, "Registers a new user account." (not weather_forecast, "Weather forecast ...").
    said = words[0].lower().strip(",:;") if words else ""
    own = name_words[0].lower() if name_words and said in {name_words[0].lower() + e for e in ("s", "es")} else None
    if words:
        verb = _imperative(words[0], ambiguous=True) or own
        if verb and len(words) <= 16:
            # the user asks: "fork a repository to your account" is theirs, "to my account"
            intent = re.sub(r"\byour(self)?\b", lambda m: "my" + (m[1] or ""), " ".join([verb, *words[1:]]), flags=re.I)
            intents.append(re.sub(r"\bthe (?:current |authenticated )?user's\b", "my", intent, flags=re.I))  # "add an event to the user's calendar"
    if name_words and (_imperative(name_words[0]) or own):
        intents.append(" ".join([_imperative(name_words[0]) or name_words[0], *name_words[1:]]))
    elif name_words and not intents:  # the name as a thing to look up, only when nothing reads better
        intents.append(f"look up the {' '.join(name_words)}")
    return intents


def _imperative(word: str, ambiguous: bool = False) -> str | None:
    """"Retrieves" / "search" / "Lists" -> the imperative ("retrieve", "search", "list"), or None;
    ``ambiguous`` also counts verbs that are as often nouns (where a description starts with one)."""
    word = word.lower().strip(",:;")
    for stem in (word, word[:-1] if word.endswith("s") else "", word[:-2] if word.endswith("es") else "", word[:-3] + "y" if word.endswith("ies") else ""):
        if stem in _IMPERATIVE or (ambiguous and stem in _AMBIGUOUS_VERBS):
            return stem
        if stem in ("return", "provide", "give", "obtain"):  # "Returns the weather" asks to get it
            return "get"
    return None


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


def load_user_tools(path: str | Path) -> tuple[list[CatalogTool], dict[str, str]]:
    """A user's tools: a JSON list of OpenAI function schemas or MCP tools (or ``{"tools": [...]}``, or
    an MCP server's whole ``tools/list`` reply), hints optional.

    Returns (tools, skipped): a tool whose schema is broken, or whose name repeats an earlier one,
    is skipped with its reason (keyed by its name, or ``[i]`` without one) rather than failing the
    file; only a file that cannot be read, or holds no list, is an error."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read tools ({exc}); expected a JSON list of OpenAI function schemas") from exc
    if isinstance(data, dict) and isinstance(data.get("result"), dict):
        data = data["result"]  # an MCP server's JSON-RPC reply to tools/list, saved as it came
    items = data.get("tools") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise ValueError(f"{path}: expected a non-empty JSON list of tools (or an object with a 'tools' list)")
    tools: list[CatalogTool] = []
    skipped: dict[str, str] = {}
    for i, item in enumerate(items):
        label = f"[{i}]"
        try:
            # OpenAI's wrapper keeps hints beside "function"; flatten so both forms carry them.
            flat = dict(item["function"], **{k: v for k, v in item.items() if k not in ("type", "function")}) if isinstance(item, dict) and isinstance(item.get("function"), dict) else item
            if isinstance(flat, dict) and isinstance(flat.get("name"), str) and flat["name"].strip():
                label = flat["name"]
            entry = CatalogTool.from_dict(flat)
            properties = entry.tool.properties
            if isinstance(properties, dict) and any(isinstance(v, bool) for v in properties.values()):
                # Boolean schemas as their object forms (true: anything, false: nothing), which every
                # step after this reads; a false one is never given (or, required, skips the tool).
                parameters = {**entry.tool.parameters, "properties": {k: ({} if v is True else {"not": {}} if v is False else v) for k, v in properties.items()}}
                entry = replace(entry, tool=replace(entry.tool, parameters=parameters))
        except (ToolSchemaError, TypeError, ValueError) as exc:
            skipped[label] = f"tool [{i}]: {exc}"
            continue
        if any(t.name == entry.name for t in tools):
            skipped[f"{label} [{i}]"] = f"tool [{i}]: the name '{entry.name}' repeats an earlier tool's; names must be unique"
            continue
        tools.append(entry)
    return tools, skipped

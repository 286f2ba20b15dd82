"""Realistic argument values for any JSON Schema parameter: what the generator uses for a user's tools.

A user's tools come without generation hints, so every value is drawn from the parameter's own
schema (``const``, ``enum``, ``default``, ``format``, ``pattern``, bounds, ``multipleOf``, item
counts, nested objects, ``anyOf``/``oneOf``, local ``$ref``), then from what its name and description
say it holds: examples the description gives ("e.g. 'Italian'"), or a value bank chosen by a word
in the name or description (a ``cuisine`` gets a cuisine, a ``path`` a file path). A string that
must match a ``pattern`` is a bank value that matches it where one does, else generated from the
regex by ``rstr`` (a maintained regex-to-string generator). :func:`draw` raises
:class:`NoValue` when no value it can make satisfies the schema; the generator then skips that tool
with the reason instead of stopping the run.
"""

from __future__ import annotations

import copy
import json
import math
import random
import re
import uuid
from typing import Any

from .catalog import name_words
from .validate import pattern_search, schema_validator

__all__ = ["NoValue", "draw", "described_examples", "resolve"]


class NoValue(ValueError):
    """No value this module can make satisfies the schema (the message says which part)."""


# Which bank a string parameter draws from, by a word in its name (checked first) or description.
# Longer, more specific words come first ("file_path" before "path", "email" before "name").
_WORD_BANKS: list[tuple[str, str]] = [
    # two-word keys first: they are looked for in the whole name, before its head noun ("first_name" is no "name")
    ("first_name", "first_name"), ("given_name", "first_name"), ("last_name", "last_name"), ("family_name", "last_name"),
    ("surname", "last_name"), ("birth", "birth_date"), ("dob", "birth_date"), ("country_code", "country_code"),
    ("zip", "postal_code"), ("postal", "postal_code"), ("postcode", "postal_code"), ("phone", "phone_number"), ("mobile", "phone_number"),
    ("sku", "sku"), ("password", "password"), ("passphrase", "password"), ("sql", "sql_query"), ("emoji", "emoji"), ("reaction", "emoji"),
    ("tz", "timezone"), ("identifier", "identifier"), ("label_selector", "label_selector"), ("tracking_number", "tracking_number"), ("job_title", "job_title"), ("field_selector", "field_selector"), ("commit_id", "commit_sha"),
    ("content_type", "mime_type"), ("mime_type", "mime_type"), ("resource_type", "resource_type"), ("resource_name", "resource_name"),
    # what developer tools (MCP servers) take: a commit, an element on a page, code, a cursor, a glob
    ("tracking", "tracking_number"), ("sha", "commit_sha"), ("revision", "commit_sha"), ("commit", "commit_sha"), ("selector", "css_selector"), ("uid", "element_ref"),
    ("javascript", "js_code"), ("script", "js_code"), ("cursor", "cursor"), ("kubeconfig", "kube_context"), ("container", "container_name"), ("timestamp", "date"),
    ("pod", "resource_name"), ("deployment", "resource_name"), ("helm", "resource_name"), ("resource", "resource_name"),
    ("prompt", "instruction"), ("instruction", "instruction"), ("goal", "instruction"), ("glob", "glob"), ("pattern", "glob"),
    ("notes", "work_note"), ("memo", "work_note"), ("remark", "work_note"), ("justification", "work_note"),
    ("webhook", "url"), ("repository", "repository"), ("q", "search_query"), ("ip", "ip_address"), ("ipv4", "ip_address"),
    ("ipv6", "ip_address"), ("service", "service_name"), ("metric", "metric_name"), ("restaurant", "restaurant_name"), ("list", "list_name"),
    ("email", "email"), ("username", "username"), ("filename", "file_path"), ("namespace", "namespace"), ("subject", "email_subject"), ("airport", "airport"), ("ticker", "ticker"), ("symbol", "ticker"),
    ("currency", "currency"), ("timezone", "timezone"), ("time_zone", "timezone"), ("language", "language"), ("lang", "language"),
    ("country", "country"), ("city", "city"), ("location", "city"), ("place", "city"), ("destination", "city"), ("origin", "city"),
    ("address", "address"), ("street", "street"), ("cuisine", "cuisine"), ("ingredient", "ingredient"), ("dish", "dish"), ("recipe", "dish"),
    ("food", "food"), ("movie", "movie"), ("film", "movie"), ("book", "book"), ("song", "song"), ("track", "song"), ("artist", "artist"),
    ("playlist", "playlist_name"), ("team", "sport_team"), ("league", "league"), ("company", "company"), ("organization", "company"),
    ("org", "company"), ("product", "product"), ("item", "product"), ("color", "color"), ("colour", "color"), ("room", "room"),
    ("device", "device"), ("job", "job_title"), ("department", "department"), ("exercise", "exercise"), ("museum", "museum"),
    ("venue", "venue"), ("landmark", "landmark"), ("region", "region"), ("domain", "domain_name"), ("host", "domain_name"),
    ("url", "url"), ("uri", "url"), ("link", "url"), ("website", "url"), ("repo", "repository"), ("package", "package"),
    ("file", "file_path"), ("path", "file_path"), ("directory", "file_path"), ("folder", "file_path"), ("flight", "flight_number"),
    ("tracking", "tracking_number"), ("order", "order_id"), ("owner", "username"), ("user", "username"), ("author", "username"),
    ("assignee", "username"), ("handle", "username"), ("login", "username"), ("recipient", "email"), ("unit", "unit"),
    ("programming", "programming_language"), ("branch", "branch"), ("label", "label"), ("tag", "label"), ("channel", "channel"),
    ("query", "search_query"), ("search", "search_query"), ("keyword", "search_query"), ("term", "search_query"),
    ("title", "event_title"), ("event", "event_title"), ("task", "task"), ("todo", "task"), ("message", "text_message"),
    ("comment", "text_message"), ("body", "email_body"), ("content", "email_body"), ("text", "phrase"), ("note", "phrase"),
    ("description", "phrase"), ("reason", "phrase"), ("word", "word"), ("topic", "topic"), ("category", "subject"),
    ("genre", "subject"), ("name", "person_name"), ("date", "date"), ("time", "time"), ("id", "identifier"), ("key", "identifier"),
    # last: a number, code or reference that nothing else names is an identifier, never a topic ("invoice_number")
    ("number", "identifier"), ("code", "identifier"), ("no", "identifier"), ("ref", "identifier"), ("reference", "identifier"),
]
# Integers by a word in the name: (word, low, high, nice values inside the range).
# A name's usual range and some usual values; a word ending in "$" matches only whole ("lat", not "latency").
_INT_WORDS: list[tuple[str, int, int, tuple[float, ...]]] = [
    ("latitude", -90, 90, (48.8566, 40.7128, 51.5074, -33.8688, 35.6762)), ("lat$", -90, 90, (48.8566, 40.7128, 51.5074, -33.8688, 35.6762)),
    ("longitude", -180, 180, (2.3522, -74.006, -0.1278, 151.2093, 139.6503)), ("lng$", -180, 180, (2.3522, -74.006, -0.1278, 151.2093, 139.6503)),
    ("lon$", -180, 180, (2.3522, -74.006, -0.1278, 151.2093, 139.6503)),
    ("party", 1, 12, (2, 3, 4, 6)), ("cent", 99, 100000, (499, 999, 1999, 4999, 12999)), ("year", 1990, 2028, ()), ("port", 1, 65535, (80, 443, 3000, 5432, 8080)), ("page", 1, 10, ()),
    ("limit", 1, 100, (5, 10, 20, 25, 50)), ("per", 1, 100, (10, 20, 30, 50)), ("max", 1, 100, (5, 10, 20, 50)),
    ("count", 1, 50, (3, 5, 10)), ("num", 1, 50, (3, 5, 10)), ("top", 1, 50, (3, 5, 10)), ("size", 1, 100, (10, 20, 50)),
    ("age", 1, 99, ()), ("second", 1, 3600, (5, 10, 30, 60, 120)), ("timeout", 1, 600, (10, 30, 60)),
    ("minute", 1, 240, (15, 30, 45, 60, 90)), ("width", 100, 4000, (640, 800, 1024, 1280, 1920)),
    ("height", 100, 4000, (480, 600, 768, 720, 1080)), ("depth", 1, 10, ()), ("day", 1, 365, (1, 3, 7, 14, 30)),
    ("hour", 1, 72, (1, 2, 3, 6, 12, 24)), ("quantity", 1, 20, ()), ("guest", 1, 12, ()), ("people", 1, 12, ()),
    ("replica", 1, 10, (1, 2, 3, 5)), ("revision", 1, 20, ()), ("index", 0, 10, ()), ("milestone", 1, 20, ()),
    ("tail", 1, 500, (10, 20, 50, 100)), ("head$", 1, 500, (10, 20, 50, 100)),
    ("number", 1, 500, ()), ("id", 1, 99999, ()),
]
_NICE_NUMBERS = (0.5, 1.5, 2.5, 5, 10, 12.5, 15, 20, 25, 40, 50, 75, 99.99, 100, 150, 200, 250, 500, 1000, 2500)
_EXAMPLE_LEAD = re.compile(r"(?:e\.g\.|\beg\.|\bex\.|for example|for instance|such as|example[s]?:|(?-i:like)|in the format)\s*,?\s*(.{1,160}?)(?:\)|\.\s|$)", re.I)
_MASK = re.compile(r"[YMDHhmsTZ]+(?:[-:/. T][YMDHhmsTZ]+)+")  # "in the format YYYY-MM-DD": a form, not a value
# An example whose digits can be drawn afresh: letters and digits (an id, a version, a tag), not a
# time, a date or an address (whose digits have ranges).
_VARIABLE = re.compile(r"(?=.*[A-Za-z])(?=.*\d)(?!.*\d{4}-\d{2}-\d{2})(?!.*\d:\d)(?!.*\d/\d)(?!.*\d+\.\d+\.\d+\.\d+)[\w.+#@-]{2,60}")
# A list's end ("e.g., pods, deployments, etc."), or the next lead ("LIKE pattern, e.g. fct_%"): no value.
_NOT_EXAMPLES = {"etc", "and so on", "and more", "e.g", "eg", "i.e", "ie", "ex"}
# A fragment that tells what to do, not a value: "e.g. v1.9.0; default: previous", "...; omit for whole home"
_ADVICE = re.compile(r"(?:default|omit|leave|if|when|optional|required|use|set|must|only|see)\b", re.I)
_QUOTED = re.compile(r"[\"'`]([^\"'`\n]{1,60})[\"'`]")
_MAX_DEPTH = 12
_SHALLOW = 3  # below this depth only required properties and the fewest items: recursive schemas end


def resolve(schema: Any, root: dict[str, Any] | None) -> dict[str, Any]:
    """``schema`` with a local ``$ref`` ("#/$defs/X", "#/definitions/X") followed and ``allOf`` merged."""
    seen = 0
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and root is not None and seen < 10:
        target: Any = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(target, dict) and part else target
        if not isinstance(target, dict):
            raise NoValue(f"cannot follow $ref {schema['$ref']!r}")
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        seen += 1
    if not isinstance(schema, dict):
        return {} if schema is True else {"not": {}}
    if isinstance(schema.get("allOf"), list):
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            part = resolve(part, root)
            merged["properties"] = {**merged.get("properties", {}), **part.get("properties", {})}
            merged["required"] = sorted(set(merged.get("required", [])) | set(part.get("required", [])))
            merged.update({k: v for k, v in part.items() if k not in ("properties", "required")})
        schema = {k: v for k, v in merged.items() if v != [] or k != "required"}
        if not schema.get("properties"):
            schema.pop("properties", None)
    return schema


def described_examples(description: str) -> list[str]:
    """Values a description offers as examples: "(e.g. 'Italian', 'Thai')" -> ["Italian", "Thai"]."""
    found: list[str] = []
    for match in _EXAMPLE_LEAD.finditer(description or ""):
        span = match.group(1)
        quoted = _QUOTED.findall(span)
        found.extend(q.strip() for q in quoted if q.strip() and not _MASK.fullmatch(q.strip()))
        if not quoted and "(" not in span:  # unquoted: "e.g. Paris, London" -> the comma-separated words (not code's: "COUNT(*")
            found.extend(w.strip(" .;:") for w in re.split(r",|;|\bor\b", span) if 0 < len(w.strip(" .;:")) <= 40 and len(w.split()) <= 4 and w.strip(" .;:").lower() not in _NOT_EXAMPLES
                         and not _MASK.fullmatch(w.strip(" .;:")) and not _ADVICE.match(w.strip()))
    return list(dict.fromkeys(found))


def _kind(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind:
        return str(kind)
    if "properties" in schema or "additionalProperties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return "string"


def _valid(value: Any, schema: dict[str, Any], root: dict[str, Any] | None) -> bool:
    try:
        # The validator cache `data generate` checks rows with: one compiled validator per schema, not
        # per draw; a $ref inside the part is followed into the whole parameters (``root``).
        validator = schema_validator(json.dumps(schema, sort_keys=True), json.dumps(root, sort_keys=True) if root is not None else None)
        return validator is not None and validator.is_valid(value)
    except Exception:  # noqa: BLE001 - a schema jsonschema cannot follow (a $ref to nowhere, a loop) fits no value
        return False


def draw(name: str, schema: Any, rng: random.Random, banks: dict[str, Any], root: dict[str, Any] | None = None, depth: int = 0, tool: str = "") -> Any:
    """A value for parameter ``name`` of the tool named ``tool`` that satisfies ``schema``, realistic where the schema allows."""
    if depth > _MAX_DEPTH:
        raise NoValue(f"'{name}' nests deeper than {_MAX_DEPTH} levels")
    schema = resolve(schema, root)
    for _attempt in range(8):
        value = _candidate(name, schema, rng, banks, root, depth, tool)
        if _valid(value, schema, root):
            return value
    raise NoValue(f"no value for '{name}' satisfies its schema {json.dumps(schema)[:160]}")


def _candidate(name: str, schema: dict[str, Any], rng: random.Random, banks: dict[str, Any], root: dict[str, Any] | None, depth: int, tool: str) -> Any:
    if "const" in schema:
        return copy.deepcopy(schema["const"])
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        # Only the values the rest of the schema admits (["a", 1, null] with type string: "a").
        rest = {k: v for k, v in schema.items() if k != "enum"}
        return copy.deepcopy(rng.choice([v for v in schema["enum"] if _valid(v, rest, root)] or schema["enum"]))
    for key in ("anyOf", "oneOf"):
        branches = [resolve(b, root) for b in schema.get(key) or []]
        usable = [b for b in branches if _kind(b) != "null"] or branches
        if usable:
            rest = {k: v for k, v in schema.items() if k not in (key, "description")}
            branch = {**rest, **rng.choice(usable)}
            branch.setdefault("description", schema.get("description", ""))
            return draw(name, branch, rng, banks, root, depth + 1, tool)
    if "default" in schema and rng.random() < 0.15 and schema["default"] not in ("", None):  # "" or null says nothing: draw a value
        return copy.deepcopy(schema["default"])
    kind = _kind(schema)
    description = str(schema.get("description") or "")
    if kind == "null":
        return None
    if kind == "boolean":
        return rng.random() < 0.5
    if kind in ("integer", "number"):
        return _number(name, schema, kind, rng)
    if kind == "array":
        return _array(name, schema, rng, banks, root, depth, tool)
    if kind == "object":
        return _object(name, schema, rng, banks, root, depth, tool)
    return _string(name, description, schema, rng, banks, tool)


def _number(name: str, schema: dict[str, Any], kind: str, rng: random.Random) -> int | float:
    tokens = name_words(name)
    low: float | None = None
    high: float | None = None
    nice: tuple[int, ...] = ()
    counted = False  # a name that counts or numbers things ("count", "page_id"): whole even where the type is "number"
    for entry, lo, hi, good in _INT_WORDS:
        word, alone = entry.rstrip("$"), entry.endswith("$")
        if any(t == word or not alone and t.startswith(word) and len(word) > 2 for t in tokens):
            low, high, nice = lo, hi, good
            counted = all(float(v).is_integer() for v in good)  # not latitudes
            break
    # ids ("msgid") and what the description counts ("Number of lines to show") are whole too
    counted = counted or any(t.endswith("id") for t in tokens) or bool(re.match(r"\s*(?:the\s+)?(?:number|count) of\b", str(schema.get("description") or ""), re.I))
    whole = kind == "integer" or counted
    s_low, s_high = schema.get("minimum"), schema.get("maximum")
    ex_low, ex_high = (schema.get(k) if isinstance(schema.get(k), (int, float)) and not isinstance(schema.get(k), bool) else None for k in ("exclusiveMinimum", "exclusiveMaximum"))
    if schema.get("exclusiveMinimum") is True:  # draft 4: the flag makes "minimum" exclusive
        ex_low, s_low = s_low, None
    if schema.get("exclusiveMaximum") is True:
        ex_high, s_high = s_high, None

    def inside(bound: float, other: Any) -> float:
        """How far inside an exclusive bound to start: 1 for integers; for numbers 0.5, or a quarter of a narrower range."""
        if kind == "integer":
            return 1
        return 0.5 if not isinstance(other, (int, float)) or abs(other - bound) > 2 else abs(other - bound) / 4
    if ex_low is not None:
        s_low = ex_low + inside(ex_low, ex_high if ex_high is not None else s_high)
    if ex_high is not None:
        s_high = ex_high - inside(ex_high, ex_low if ex_low is not None else s_low)
    # The name's usual range, narrowed by the schema's bounds; the schema's alone where they disagree.
    if s_low is not None:
        low = max(low, s_low) if low is not None else s_low
    if s_high is not None:
        high = min(high, s_high) if high is not None else s_high
    if low is not None and high is not None and low > high:
        low, high, nice = s_low, s_high, ()
    step = schema.get("multipleOf")
    if isinstance(step, (int, float)) and step > 0:
        lo = low if low is not None else step
        hi = high if high is not None else lo + 20 * step
        first, last = int(-(-lo // step)), int(hi // step)
        k = rng.randint(first, max(first, last))
        value = k * step
        return int(value) if kind == "integer" or float(value).is_integer() else round(value, 6)
    # The description's own numbers ("Annual base salary, e.g. 145000"), as given or near them: a
    # minimum of 10000 says nothing of where salaries lie.
    shown = [float(m) for e in described_examples(str(schema.get("description") or "")) for m in re.findall(r"^-?\d+(?:\.\d+)?$", e.replace(",", ""))]
    shown = [v for v in shown if (low is None or v >= low) and (high is None or v <= high)]
    if shown and rng.random() < 0.6:
        near = rng.choice(shown) * rng.choice((0.5, 0.75, 1, 1, 1.25, 1.5, 2))
        digits = max(0, len(str(int(abs(near)))) - 2)  # two significant figures: 145000 * 1.25 -> 180000
        near = round(near, -digits) if digits else round(near, 2)
        if (low is None or near >= low) and (high is None or near <= high):
            return int(near) if whole or float(near).is_integer() else near
    pool = [v for v in (nice or _NICE_NUMBERS) if (low is None or v >= low) and (high is None or v <= high) and not (whole and not float(v).is_integer())]
    if pool and rng.random() < 0.6:
        choice = rng.choice(pool)
        return int(choice) if whole else choice
    width = 50 if whole else 100
    lo = low if low is not None else (1 if whole else 0)
    if low is None and high is not None and high < lo:  # only an upper bound, below the usual start
        lo = high - width
    hi = high if high is not None else lo + width
    if whole and int(-(-lo // 1)) <= hi:  # a range with a whole number in it
        lo_i, hi_i = int(-(-lo // 1)), int(hi // 1)
        return rng.randint(lo_i, max(lo_i, min(hi_i, lo_i + max(500, 3 * abs(lo_i)))))  # a salary's minimum of 10000 reaches 40000
    span = hi - lo
    # Digits enough for the range (0.001..0.002 needs four), and never rounded past a bound.
    digits = 0 if span >= 20 else 1 if span >= 1 else 1 - math.floor(math.log10(span)) if span > 0 else 6
    value = min(max(round(rng.uniform(lo, hi), digits), lo), hi)
    return int(value) if float(value).is_integer() else value


def _array(name: str, schema: dict[str, Any], rng: random.Random, banks: dict[str, Any], root: dict[str, Any] | None, depth: int, tool: str) -> list[Any]:
    items = resolve(schema.get("items") or {"type": "string"}, root)
    low = max(int(schema.get("minItems", 1 if depth < _SHALLOW else 0)), 0)  # deep down, no items unless some are required: a recursive tree ends
    high = int(schema.get("maxItems", max(low, 4)))
    count = low if depth >= _SHALLOW else rng.randint(low, max(low, min(high, low + 3)))
    # A singular name for the items: "tags" -> "tag", so the bank fits each element.
    singular = name[:-1] if name.endswith("s") and len(name) > 3 else name
    values: list[Any] = []
    for _ in range(count * 4 + 4 if count else 0):
        value = draw(singular, items, rng, banks, root, depth + 1, tool)
        if value not in values:
            values.append(value)
        if len(values) == count:
            break
    while values and len(values) < count and not schema.get("uniqueItems"):  # few distinct values fit: repeat them
        values.append(copy.deepcopy(rng.choice(values)))
    return values


def _object(name: str, schema: dict[str, Any], rng: random.Random, banks: dict[str, Any], root: dict[str, Any] | None, depth: int, tool: str) -> dict[str, Any]:
    props = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    optional = 0.4 if depth < _SHALLOW else 0.0
    out = {key: draw(key, sub, rng, banks, root, depth + 1, tool) for key, sub in props.items() if key in required or rng.random() < optional}
    extra = schema.get("additionalProperties")
    if not props and extra not in (False, None):
        sub = extra if isinstance(extra, dict) else {"type": "string"}
        for key in rng.sample(["region", "env", "team", "owner", "priority"], k=rng.randint(1, 2)):
            out[key] = draw(key, sub, rng, banks, root, depth + 1, tool)
    for key in required - set(out):  # required but not listed in properties: any string will do
        out[key] = draw(key, {"type": "string"}, rng, banks, root, depth + 1, tool)
    return out


def _string(name: str, description: str, schema: dict[str, Any], rng: random.Random, banks: dict[str, Any], tool: str = "") -> str:
    fmt = schema.get("format")
    pattern = schema.get("pattern")
    candidates = _format_values(fmt, rng, banks, name) if fmt else []
    given = [e for e in schema.get("examples") or [] if isinstance(e, str) and e.strip()] if isinstance(schema.get("examples"), list) else []
    examples = [e for e in dict.fromkeys(given + described_examples(description)) if not pattern or _search(pattern, e)]
    if not candidates:
        # The description's own examples first; a bank the name or description points to otherwise.
        bank, chosen = _bank_values(name, description, banks, tool)
        # A bank the name chose shares the draws with the examples; one a word of the description
        # merely mentions ("containers" in "e.g. pods, pods.spec.containers"), or a generic word of
        # the name ("name" of restaurant_name, e.g. 'Nopa'), gives way to them.
        candidates = examples if examples and (chosen != "name" or rng.random() < 0.7) else bank
    if pattern:
        matching = [c for c in candidates if _search(pattern, c)]
        if not matching:  # "usd" for ^[a-z]{3}$: the same values in the case the pattern asks for
            matching = [v for c in candidates for v in dict.fromkeys((c.lower(), c.upper())) if _search(pattern, v)]
        if not matching:  # the description's examples before another bank ("cus_9s8Df7Gh", not a 60-letter string from the regex)
            matching = [e for e in examples if _search(pattern, e)]
        if not matching:  # else any bank whose values match, a bank that shares a word with the name first ("country" -> country_code)
            words = set(name_words(name))
            ordered = sorted((k for k, bank in banks.items() if isinstance(bank, list)), key=lambda k: not words & set(k.split("_")))
            for key in ordered:
                matching = [v for v in banks[key] if isinstance(v, str) and _search(pattern, v)]
                if matching:
                    break
        candidates = matching or [_from_regex(pattern, name, rng)]
    low, high = int(schema.get("minLength", 0)), schema.get("maxLength")
    fitting = [c for c in candidates if len(c) >= low and (high is None or len(c) <= high)]
    if fitting:
        value = rng.choice(fitting[:40])
        if value in examples and _VARIABLE.fullmatch(value) and rng.random() < 0.67:
            # A description's one example ("cus_9s8Df7Gh", "v2.14.3") would be every row's value: its
            # digits drawn afresh make another of its kind ("cus_4s1Df8Gh", "v7.30.1").
            varied = re.sub(r"\d+", lambda digits: _redrawn(digits[0], rng), value)
            if not pattern or _search(pattern, varied):
                value = varied
        return value
    if pattern:
        size = f"at least {low}" if high is None else f"{low} to {high}"
        raise NoValue(f"'{name}': no value of {size} characters matches pattern {pattern!r}")
    base = rng.choice(candidates) if candidates else "example"
    text = base
    while len(text) < low:  # "the French Revolution the French Revolution ...", not "...Revolutionthe French"
        text += " " + base
    if high is not None and len(text) > high:
        text = text[:high]
    cut = text.rstrip()  # a request cannot end a value on a space it does not say
    return cut if len(cut) >= low else text


def _redrawn(digits: str, rng: random.Random) -> str:
    """A run of digits drawn afresh at its length, without a leading zero ("v3.03.7"); a year stays
    ("SP2026" is no "SP8764")."""
    if re.fullmatch(r"(?:19|20)\d\d", digits):
        return digits
    if len(digits) == 1:
        return str(rng.randint(0, 9))
    return str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in digits[1:])


def _search(pattern: str, text: str) -> bool:
    """Whether ``pattern`` matches ``text`` within the bounded search every schema check uses."""
    try:
        return pattern_search(pattern, text) is not None
    except Exception:  # noqa: BLE001 - re.error, regex.error, TimeoutError: no match to use
        return False


def _from_regex(pattern: str, name: str, rng: random.Random) -> str:
    import rstr  # imported here: only tools with a pattern no bank value matches need it

    try:
        for _ in range(5):
            text = rstr.Rstr(rng).xeger(pattern)  # the row's own random stream: the same seed, the same file
            # \s may come out a tab or a form feed, which a request cannot say: a space where one fits
            spaced = re.sub(r"[\t\n\r\x0b\x0c]", " ", text)
            if _search(pattern, spaced):
                return spaced
            if _search(pattern, text):
                return text
    except Exception as exc:  # rstr raises on regex features it cannot reverse (lookarounds, backrefs)
        raise NoValue(f"'{name}': cannot write a string for pattern {pattern!r} ({exc})") from exc
    raise NoValue(f"'{name}': cannot write a string for pattern {pattern!r}")


def _format_values(fmt: str, rng: random.Random, banks: dict[str, Any], name: str = "") -> list[str]:
    past = {"birth", "born", "dob", "birthday"} & set(name_words(name))  # a birth date is no date next year
    dates = [str(d) for d in banks.get("birth_date" if past else "date", ["2026-07-04"])]
    times = [str(t) for t in banks.get("time", ["17:30"])]
    if fmt == "date":
        return dates
    if fmt == "time":
        return [f"{t}:00" for t in times]
    if fmt == "date-time":
        return [f"{rng.choice(dates)}T{rng.choice(times)}:00Z" for _ in range(6)]
    if fmt in ("email", "idn-email"):
        return list(banks.get("email", ["alex@example.com"]))
    if fmt in ("uri", "url", "iri", "uri-reference"):
        return list(banks.get("url", ["https://example.com"]))
    if fmt in ("hostname", "idn-hostname"):
        return list(banks.get("domain_name", ["example.com"]))
    if fmt == "uuid":
        return [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(3)]
    if fmt == "ipv4":
        return [f"{rng.choice((10, 172, 192))}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}" for _ in range(3)]
    if fmt == "ipv6":
        return [f"2001:db8::{rng.randint(1, 0xffff):x}" for _ in range(3)]
    if fmt == "duration":
        return ["PT30M", "PT1H", "P1D", "PT2H30M"]
    return []


# An everyday bank's narrower kin where the parameter, its description or its tool says what it is
# for: a GitHub issue's title is no "Board meeting", a commit message no "I left the package".
_FILE_WORDS = frozenset({"file", "files", "directory", "directories", "folder", "path"})
_NARROWER: dict[tuple[str, frozenset[str]], str] = {
    ("text_message", frozenset({"commit", "push"})): "commit_message",
    ("phrase", frozenset({"repository", "repo", "project"})): "repo_description",
    ("city", _FILE_WORDS): "file_path",  # move_file's destination
    # a reason or note in a work tool is a work note, not "Is breakfast included in the price?"
    ("phrase", frozenset({"reason", "note", "notes", "memo", "comment", "comments", "remark", "remarks", "justification"})): "work_note",
}
# ... read off the parameter's and the tool's names only: a description's "Merge tags use {{first_name}}"
# is no pull request.
_NARROWER_BY_NAME: dict[tuple[str, frozenset[str]], str] = {
    ("event_title", frozenset({"issue", "issues", "pull", "merge", "ticket", "bug"})): "issue_title",
    ("email_body", frozenset({"issue", "issues", "pull", "merge", "review", "ticket", "bug"})): "issue_body",
}
# Head nouns that say little alone: "company_name" is a company, "place_id" an id.
_GENERIC_HEADS = {"name", "value", "text", "string", "type", "data", "info", "number", "code", "no", "ref", "reference"}


def _bank_values(name: str, description: str, banks: dict[str, Any], tool: str = "") -> tuple[list[str], str | None]:
    """(values, what chose them: "name", "description", "generic" (a generic word of the name), "tool"
    or None) for a string parameter: the
    bank its head noun points to (the last word of the name, unless that word is generic), then its
    other words, then the description's words, then the name's generic words ("Repository name" is
    a repository, not a person's name), then the tool's name ("source" of ``move_file`` is a file);
    else the topic bank. A file path where the parameter, its description or the tool speaks of a
    directory is a directory's path."""
    words = name_words(name)
    joined = "_".join(words)  # a two-word key ("time_zone") is looked for in the whole name
    described, tool_words = name_words(description), name_words(tool)
    if tool_words[:1] == ["file"] and len(tool_words) >= 3:
        tool_words = tool_words[1:]  # "file_first_notice_of_loss" files a claim: it is no file tool
    groups = [("name", [w]) for w in reversed(words) if w not in _GENERIC_HEADS] + [("description", described)]
    # the tool's name only for files: "search" of a search tool says nothing of its "filter"
    groups += [("generic", [w]) for w in reversed(words) if w in _GENERIC_HEADS] + [("tool", [w for w in tool_words if w in _FILE_WORDS])]
    for source, group in groups:
        for word, bank in _WORD_BANKS:
            # Short words match whole words only ("name" is not "namespace"); longer ones may prefix ("files").
            hit = word in joined if "_" in word else any(t == word or len(word) >= 5 and t.startswith(word) for t in group)
            if hit and isinstance(banks.get(bank), list) and banks[bank]:
                if bank == "file_path" and not {"file", "files"} & {*words, *described} and {"directory", "directories", "folder", "dir"} & {*words, *described, *tool_words}:
                    bank = "directory_path"
                context, named = {*words, *described, *tool_words}, {*words, *tool_words}
                bank = next((better for (was, cues), better in _NARROWER_BY_NAME.items() if was == bank and cues & named and banks.get(better)), bank)
                bank = next((better for (was, cues), better in _NARROWER.items() if was == bank and cues & context and banks.get(better)), bank)
                return [str(v) for v in banks[bank]], ("name" if "_" in word else source)
    return [str(v) for v in banks.get("topic", ["example"])], None

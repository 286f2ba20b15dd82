"""Dataset validation: every problem in a file, each with its line and field, never just the first.

Two levels. :func:`~tooltune.data.records.structural_problems` is what any reader needs (a prompt, a string ground truth);
:func:`row_problems` adds the semantic checks a training set must pass (calls name offered tools,
arguments satisfy the tool's JSON schema, the label agrees with the ground truth).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from jsonschema.exceptions import SchemaError

from ..schema import BEHAVIORS, Tool, ToolSchemaError, parse_tool_calls, tools_from_system_prompt
from .records import Problem, iter_jsonl, structural_problems

__all__ = ["pattern_search", "schema_problem", "validator_class", "ValidationReport", "row_problems", "validate_file", "argument_problems"]

@dataclass
class ValidationReport:
    """What :func:`validate_file` found: how many rows it read and every problem, in file order."""

    path: str
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def row_problems(obj: Any, line: int) -> list[Problem]:
    """Every problem with one row: structural ones, then tools, ground truth and label checks."""
    problems = structural_problems(obj, line)
    if problems:
        return problems

    tools, tool_field = _row_tools(obj, line, problems)
    by_name: dict[str, Tool] = {}
    for i, tool in enumerate(tools):
        if tool.name in by_name:
            problems.append(Problem(line, f"{tool_field}[{i}].name", f"tool '{tool.name}' is offered twice"))
        by_name[tool.name] = tool

    label = obj.get("behavior")
    if label is not None and label not in BEHAVIORS:
        problems.append(Problem(line, "behavior", f"must be one of {list(BEHAVIORS)}, got {label!r}"))

    ground_truth: str = obj["reward_model"]["ground_truth"]
    gt_field = "reward_model.ground_truth"
    calls = parse_tool_calls(ground_truth)
    stripped = ground_truth.strip()
    if calls is None and stripped[:1] in "[{" and stripped:
        problems.append(Problem(line, gt_field, "looks like JSON but holds no valid call list; write [{\"name\": ..., \"arguments\": {...}}]"))
        return problems
    if not stripped:
        problems.append(Problem(line, gt_field, "is empty; give a JSON call list, a clarifying question or a refusal"))
        return problems

    if calls is None:
        if label == "execute":
            problems.append(Problem(line, gt_field, "behavior is 'execute' but the ground truth is not a tool call list"))
        return problems
    if label in ("clarify", "refuse"):
        problems.append(Problem(line, gt_field, f"behavior is '{label}' but the ground truth is a tool call; it should be natural language"))
    if not by_name:
        problems.append(Problem(line, tool_field, "the ground truth calls a tool but the row offers none; add 'tools' or list them in the system prompt"))
        return problems
    for i, call in enumerate(calls):
        where = f"{gt_field}[{i}]"
        tool = by_name.get(call.name)
        if tool is None:
            problems.append(Problem(line, f"{where}.name", f"calls '{call.name}', which the row does not offer (offered: {', '.join(sorted(by_name))})"))
            continue
        problems.extend(Problem(line, f"{where}.arguments{path}", message) for path, message in argument_problems(tool, call.arguments))
    return problems


def argument_problems(tool: Tool, arguments: dict[str, Any]) -> list[tuple[str, str]]:
    """``(path, message)`` for each way ``arguments`` breaks ``tool``'s schema, unknown names included."""
    found: list[tuple[str, str]] = []
    schema = tool.parameters
    allow_extra = schema.get("additionalProperties", False) not in (False, None)
    if tool.properties and not allow_extra:
        for name in arguments:
            if name not in tool.properties:
                found.append((f".{name}", f"'{name}' is not a parameter of '{tool.name}' (parameters: {', '.join(tool.properties)})"))
    validator = schema_validator(json.dumps(schema, sort_keys=True))
    if validator is None:
        return found + [("", f"tool '{tool.name}' has an invalid JSON schema; fix its 'parameters'")]
    try:
        for error in validator.iter_errors(arguments):
            path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
            found.append((path, error.message))
    except Exception as exc:  # noqa: BLE001 - a schema jsonschema cannot follow (a $ref to nowhere) is reported, not raised
        found.append(("", f"tool '{tool.name}': its schema cannot be checked ({str(exc).splitlines()[0][:160]}); fix its 'parameters'"))
    return found


def schema_problem(schema: Any) -> str | None:
    """Why a tool's ``parameters`` is no JSON Schema, by its own ``$schema`` draft (2020-12 when it
    names none), or no tool schema; None when it is both. Patterns are left alone here (JSON Schema's
    are ECMA-262, not Python's ``re``). The one check serving and ``data generate --tools`` share."""
    return _schema_problem(json.dumps(schema, sort_keys=True, default=str))


@lru_cache(maxsize=1024)
def _schema_problem(schema_json: str) -> str | None:
    schema = json.loads(schema_json)
    try:
        validator_class(schema).check_schema(schema, format_checker=None)
    except SchemaError as exc:
        where = "/".join(map(str, exc.path))
        return f"not a valid JSON Schema{f' at {where}' if where else ''}: {exc.message}"
    try:
        Tool.from_dict({"name": "f", "parameters": schema})
    except ToolSchemaError as exc:
        return str(exc).removeprefix("tool 'f': ")
    return None


def validator_class(schema: Any) -> type[Validator]:
    """The jsonschema validator of ``schema``'s own ``$schema`` draft; 2020-12 when it names none, or
    one jsonschema does not know, or names it with something other than a string. Its ``pattern``
    gives up after 50 ms: a client's ``^(a+)+$`` must not hang a server on one value."""
    draft = schema.get("$schema") if isinstance(schema, dict) else None
    return _bounded(validator_for(schema, default=Draft202012Validator) if isinstance(draft, str) else Draft202012Validator)


def pattern_search(pattern: str, text: str) -> Any:
    """``pattern``'s first match in ``text``, or None; TimeoutError after 50 ms (``^(\\w+\\s?)*$``
    backtracks for minutes in Python's re on a sentence it does not match: ``regex`` can stop), and
    re.error for what Python's re (jsonschema's own check) refuses as a pattern."""
    import re

    import regex

    re.compile(pattern)
    return regex.search(pattern, text, timeout=0.05)


@lru_cache(maxsize=None)
def _bounded(cls: type[Validator]) -> type[Validator]:
    from jsonschema import ValidationError
    from jsonschema.validators import extend

    def pattern(validator: Any, patrn: str, instance: Any, schema: Any) -> Any:
        if not validator.is_type(instance, "string"):
            return
        try:
            found = pattern_search(patrn, instance)
        except TimeoutError:
            yield ValidationError(f"{instance!r} could not be checked against {patrn!r} in time (the pattern backtracks); simplify the pattern")
            return
        if found is None:
            yield ValidationError(f"{instance!r} does not match {patrn!r}")
    return extend(cls, {"pattern": pattern})


@lru_cache(maxsize=4096)
def schema_validator(schema_json: str, root_json: str | None = None) -> Validator | None:
    """The validator of a tool's ``parameters`` by its own ``$schema`` draft (2020-12 when it names
    none, as serving reads it); None for a schema that is no JSON Schema. With ``root_json``, the
    schema is a part of those parameters (one property's), and its "#/..." references point into
    them, as they do in the whole ("items": {"$ref": "#/properties/origin"}). One compiled
    validator per distinct schema: a 100k-row file uses a few hundred."""
    schema = json.loads(schema_json)
    registry: Any = None
    if root_json is not None:
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        root = json.loads(root_json)
        schema = _refs_into(schema, _ROOT)
        if isinstance(schema, dict) and isinstance(root, dict) and "$schema" in root:
            schema.setdefault("$schema", root["$schema"])  # the part is read by the whole's draft
        registry = Registry().with_resource(_ROOT, Resource.from_contents(root, default_specification=DRAFT202012))
    cls = validator_class(schema)
    try:
        cls.check_schema(schema)
    except SchemaError:
        return None
    return cls(schema, format_checker=_FORMATS, **({"registry": registry} if registry is not None else {}))


_ROOT = "urn:tooltune:parameters"  # where a part's "#/..." references are looked up: the whole parameters


def _refs_into(schema: Any, base: str) -> Any:
    """``schema`` with each local reference ("#/...") made to point into the document ``base`` names."""
    if isinstance(schema, list):
        return [_refs_into(s, base) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _refs_into(v, base) for k, v in schema.items()}
    if isinstance(schema.get("$ref"), str) and schema["$ref"].startswith("#"):
        out["$ref"] = base + schema["$ref"]
    return out


# Formats checked with the standard library alone ("2026-13-45" is no date), the same set on every
# machine: jsonschema checks "time" or "uri" only where optional packages happen to be installed.
_FORMATS = FormatChecker(formats=("date", "email", "ipv4", "ipv6", "uuid", "regex"))


def _row_tools(obj: dict[str, Any], line: int, problems: list[Problem]) -> tuple[list[Tool], str]:
    if "tools" in obj:
        raw_tools = obj["tools"]
        if not isinstance(raw_tools, list):
            problems.append(Problem(line, "tools", "must be a list of OpenAI function schemas"))
            return [], "tools"
        tools = []
        for i, item in enumerate(raw_tools):
            try:
                tools.append(Tool.from_dict(item))
            except ToolSchemaError as exc:
                problems.append(Problem(line, f"tools[{i}]", str(exc)))
        return tools, "tools"
    system = next((m["content"] for m in obj["prompt"] if m.get("role") == "system"), "")
    return tools_from_system_prompt(system), "prompt[system]"


def validate_file(path: str | Path) -> ValidationReport:
    """Check every line of a JSONL dataset; unreadable lines are reported and the scan goes on."""
    report = ValidationReport(path=str(path))
    for number, obj, problem in iter_jsonl(path):
        report.rows += 1
        if problem:
            report.problems.append(problem)
        else:
            report.problems.extend(row_problems(obj, number))
    if report.rows == 0:
        report.problems.append(Problem(0, "<file>", "the file has no rows"))
    return report

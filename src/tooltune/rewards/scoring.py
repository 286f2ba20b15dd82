"""The one scorer: GRPO rewards and evaluation metrics both call these, so they cannot disagree.

Two scorers share the :class:`Score` result:

``score_reference`` — the reference tiered reward, kept faithful:
  execute rows: same tool names and every call's arguments equal → 1.0; same names but an
  argument differs, or the name sets only overlap → 0.5; wrong function or no parsable call → 0.0.
  clarify/refuse rows: 0.0 if the response parses as a tool call, else 1.0.

``score_strict`` — the default reward, on the same 0..1 scale but with no free credit:
  execute rows: each expected call matched by name earns 0.25 for the name plus 0.75 × the mean
  argument credit (1 exact after normalization, 0.5 near miss such as "10, 20, 30" for a list,
  0 wrong, missing, or invented); unmatched or surplus calls earn 0, and the row's score is the
  sum over calls divided by max(expected, produced). A call when the answer should ask or refuse
  is 0.
  clarify rows: 0.7 for a question that calls no tool and does not refuse, +0.3 when it names the
  missing value: a word of the parameter's name or description, or a content word of the
  reference question (full 1.0 when the row does not say which parameter is missing).
  refuse rows: 1.0 for a refusal that calls no tool, else 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..schema import EXPECTED_DECISION, Behavior, Decision, Tool, ToolCall, classify_response, infer_behavior, parse_tool_calls
from .arguments import EXACT, MISS, compare_value

__all__ = ["Score", "score_reference", "score_strict", "CLARIFY_BASE", "NAME_CREDIT"]

NAME_CREDIT = 0.25  # right tool, arguments all wrong: better than the wrong tool, far from right
CLARIFY_BASE = 0.7  # a question that does not name the missing value still beats calling blind


@dataclass(frozen=True)
class Score:
    """A response's reward and why: the decision it made and, when it lost credit, the failure kind."""

    value: float
    behavior: Behavior
    decision: Decision
    failure: str | None = None

    @property
    def decision_correct(self) -> bool:
        return EXPECTED_DECISION[self.behavior] == self.decision


def score_reference(response: str, ground_truth: str, behavior: Behavior | None = None) -> Score:
    """The reference tiered reward (1.0 / 0.5 / 0.0), exactly as the reference describes it."""
    expected = parse_tool_calls(ground_truth)
    behavior = behavior or infer_behavior(ground_truth)
    decision = classify_response(response)
    predicted = parse_tool_calls(response)
    if expected is None:
        return Score(0.0 if predicted is not None else 1.0, behavior, decision, _decision_failure(behavior, decision))
    if predicted is None:
        return Score(0.0, behavior, decision, _decision_failure(behavior, decision) or "no_parsable_call")
    want = sorted(c.name for c in expected)
    got = sorted(c.name for c in predicted)
    if want == got:
        if all(_same_arguments_reference(e, predicted) for e in expected):
            return Score(1.0, behavior, decision)
        return Score(0.5, behavior, decision, "wrong_argument_value")
    if set(want) & set(got):
        return Score(0.5, behavior, decision, "wrong_tool_set")
    return Score(0.0, behavior, decision, "wrong_tool")


def score_strict(
    response: str,
    ground_truth: str,
    tools: list[Tool] | None = None,
    behavior: Behavior | None = None,
    missing: list[str] | None = None,
) -> Score:
    """The default reward: schema-aware arguments, and no credit for a decision that was wrong.

    ``tools`` are the row's offered tools (to know parameter names and defaults); ``missing`` names
    the required parameters a clarify row leaves out, when the row records them.
    """
    expected = parse_tool_calls(ground_truth)
    behavior = behavior or infer_behavior(ground_truth)
    decision = classify_response(response)
    if behavior == "execute":
        if expected is None:
            return Score(0.0, behavior, decision, "ground_truth_has_no_call")
        if decision != "call":
            return Score(0.0, behavior, decision, _decision_failure(behavior, decision))
        predicted = parse_tool_calls(response)
        if predicted is None:
            return Score(0.0, behavior, decision, "malformed_call")
        return _score_calls(expected, predicted, {t.name: t for t in tools or []}, behavior, decision)
    if decision != EXPECTED_DECISION[behavior]:
        return Score(0.0, behavior, decision, _decision_failure(behavior, decision))
    if behavior == "refuse":
        return Score(1.0, behavior, decision)
    targets = missing if missing is not None else _missing_from_question(ground_truth, tools or [])
    if not targets or any(_mentions(response, name, tools or []) for name in targets) or _words(response) & _words(ground_truth):
        # Naming the value: by its parameter's words, or by a content word of the reference question
        # ("Where are you headed?" asks for `dropoff` without saying so).
        return Score(1.0, behavior, decision)
    return Score(CLARIFY_BASE, behavior, decision, "question_misses_parameter")


def _decision_failure(behavior: Behavior, decision: Decision) -> str | None:
    if EXPECTED_DECISION[behavior] == decision:
        return None
    if decision == "call":
        return {"clarify": "called_instead_of_asking", "refuse": "called_instead_of_refusing"}[behavior]
    if behavior == "execute":
        return {"ask": "asked_instead_of_calling", "refuse": "refused_instead_of_calling", "answer": "no_call"}[decision]
    if behavior == "clarify":
        return {"refuse": "refused_instead_of_asking", "answer": "answered_without_asking"}[decision]
    return {"ask": "asked_instead_of_refusing", "answer": "complied_instead_of_refusing"}[decision]


def _same_arguments_reference(expected: ToolCall, predicted: list[ToolCall]) -> bool:
    return any(p.name == expected.name and p.arguments == expected.arguments for p in predicted)


def _score_calls(expected: list[ToolCall], predicted: list[ToolCall], tools: dict[str, Tool], behavior: Behavior, decision: Decision) -> Score:
    # Calls pair up order-free: the best-matching same-named pair first ("Paris and Rome" answered
    # Rome first earns full credit), greedily; lists here are a handful of calls.
    pairs = sorted(
        ((_argument_credit(want.arguments, got.arguments, tools.get(want.name)), i, j) for i, want in enumerate(expected) for j, got in enumerate(predicted) if got.name == want.name),
        key=lambda item: (-item[0][0], item[1], item[2]),
    )
    matched: dict[int, tuple[float, str | None]] = {}
    used: set[int] = set()
    for (credit, failure), i, j in pairs:
        if i not in matched and j not in used:
            matched[i] = (credit, failure)
            used.add(j)
    remaining = [p for j, p in enumerate(predicted) if j not in used]
    total = 0.0
    failures: list[str] = []
    for i in range(len(expected)):
        if i not in matched:
            failures.append("wrong_tool")
            continue
        credit, failure = matched[i]
        total += NAME_CREDIT + (1 - NAME_CREDIT) * credit
        if failure:
            failures.append(failure)
    if remaining and len(predicted) > len(expected):
        failures.append("extra_call")
    value = total / max(len(expected), len(predicted))
    return Score(round(value, 6), behavior, decision, failures[0] if failures else None)


def _argument_credit(expected: dict[str, Any], got: dict[str, Any], tool: Tool | None) -> tuple[float, str | None]:
    keys = list(expected) + [k for k in got if k not in expected]
    if not keys:
        return 1.0, None
    properties = tool.properties if tool else {}
    credits: list[float] = []
    failure: str | None = None
    for key in keys:
        if key not in got:
            credits.append(MISS)
            failure = failure or "missing_argument"
        elif key not in expected:
            schema = properties.get(key)
            if isinstance(schema, dict) and "default" in schema and compare_value(schema["default"], got[key]) == EXACT:
                credits.append(EXACT)  # stating a default the user implied is harmless
            else:
                credits.append(MISS)
                failure = failure or ("unexpected_argument" if key not in properties else "invented_optional_argument")
        else:
            credit = compare_value(expected[key], got[key])
            credits.append(credit)
            if credit < EXACT:
                failure = failure or ("wrong_argument_type" if credit > MISS else "wrong_argument_value")
    return sum(credits) / len(credits), failure


_STOPWORDS = frozenset(
    "the and for with from that this what which your you into when where will should would could about "
    "name value values number string optional required default given e.g. example such like format "
    "want please tell help happy sure provide need know more details detail information specify give "
    "can let have does make just then there them they it's what's i'd i'll".split()
)


def _words(text: str) -> set[str]:
    return {w for w in re.split(r"[_\W]+", text.casefold()) if len(w) >= 3 and w not in _STOPWORDS}


def _parameter_words(name: str, tools: list[Tool]) -> set[str]:
    """Words that name a parameter: its own (``target_language``) and its description's ("city")."""
    words = _words(name)
    for tool in tools:
        schema = tool.properties.get(name)
        if isinstance(schema, dict) and isinstance(schema.get("description"), str):
            words |= {w for w in _words(schema["description"]) if len(w) >= 4}
    return words


def _mentions(text: str, parameter: str, tools: list[Tool] = ()) -> bool:  # type: ignore[assignment]
    """True when ``text`` names ``parameter``: "target language", "language", or a word of its description."""
    lowered = text.casefold()
    if parameter.casefold() in lowered or humanize_name(parameter) in lowered:
        return True
    return any(re.search(rf"\b{re.escape(w)}", lowered) for w in _parameter_words(parameter, list(tools)))


def humanize_name(name: str) -> str:
    return " ".join(re.split(r"[_\W]+", name.casefold())).strip()


def _missing_from_question(question: str, tools: list[Tool]) -> list[str]:
    """Required parameters of the offered tools that the reference question names."""
    return [name for tool in tools for name in tool.required if _mentions(question, name, [tool])]

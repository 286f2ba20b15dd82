"""The three behaviors a row teaches, and which one a response chose.

Rewards and evaluation both need to tell a clarifying question from a refusal from a plain answer,
so the rule lives here once. It is a deliberately simple lexical rule: the answers it judges are
short, and a rule everyone can read beats a classifier nobody can audit.
"""

from __future__ import annotations

import re
from typing import Literal

from .toolcalls import has_call_markup, parse_tool_calls, split_reasoning

Behavior = Literal["execute", "clarify", "refuse"]
Decision = Literal["call", "ask", "refuse", "answer"]

BEHAVIORS: tuple[Behavior, ...] = ("execute", "clarify", "refuse")
# The decision each behavior expects; evaluation's decision accuracy compares these.
EXPECTED_DECISION: dict[str, Decision] = {"execute": "call", "clarify": "ask", "refuse": "refuse"}

_REFUSAL_VERBS = (
    r"help|assist|do|provide|support|comply|create|write|share|fulfil|fulfill|offer|perform|process|give|make|"
    r"generate|handle|participate|engage|complete|carry out"
)
_REFUSAL_RE = re.compile(
    r"\b(?:"
    r"i\s*(?:can(?:no|')?t|can not|cannot|won'?t|will not|am not able to|'m not able to|am unable to|'m unable to|"
    r"(?:won'?t|will not|wouldn'?t) be able to|do not|don't|must not|am not going to|'m not going to)\s+"
    rf"(?:be able to\s+)?(?:{_REFUSAL_VERBS})\b"
    r"|(?:not|unable to|can't|cannot) (?:help|assist) with (?:that|this)"
    r"|i(?:'m| am) (?:sorry|afraid),? but"
    r"|i (?:must|have to|need to) (?:decline|refuse|turn (?:it |this |that )?down)"
    r"|(?:none of|no) (?:my|the) (?:available )?tools?"
    r"|(?:my|the) (?:available )?tools (?:don'?t|do not|can'?t|cannot|won'?t)"
    r"|(?:do not|don't) have (?:a|any) (?:tools?|way)"
    r"|no tools? (?:i have|available|that|to|which)"
    r"|(?:not able|unable) to .{1,80}? with (?:the|my) (?:available )?tools"
    r"|beyond (?:my|the) (?:tools|capabilities|abilities|scope)"
    r"|(?:is|are|would be) (?:illegal|harmful|unethical|dangerous)"
    r"|not (?:something|able) (?:i|to) (?:can|help)"
    r"|(?:isn'?t|is not|not) something i(?:'m| am)? (?:able to |willing to )?(?:can |could |will )?(?:help|assist|do)"
    r"|outside (?:of )?(?:what|my|the scope)"
    r")",
    re.IGNORECASE,
)
_QUESTION_RE = re.compile(
    r"\?|\b(?:please (?:provide|specify|tell|let me know|share|confirm|give)|could you (?:provide|specify|tell|share|let me know|give)"
    r"|can you (?:provide|specify|tell|share|give)|let me know|i need (?:to know|the|a|your|more))\b",
    re.IGNORECASE,
)


def is_refusal(text: str) -> bool:
    return bool(_REFUSAL_RE.search(text))


def is_question(text: str) -> bool:
    return bool(_QUESTION_RE.search(text))


def classify_response(text: str) -> Decision:
    """Which decision a response made: ``call`` a tool, ``ask`` for more, ``refuse``, or just ``answer``.

    A response with call tags counts as a call even when the call inside is malformed: the model
    decided to act. Refusal wins over question when both appear ("Sorry, I can't. Anything else?").
    """
    _, answer = split_reasoning(text if isinstance(text, str) else "")
    if parse_tool_calls(answer) is not None or has_call_markup(answer):
        return "call"
    if is_refusal(answer):
        return "refuse"
    if is_question(answer):
        return "ask"
    return "answer"


def infer_behavior(ground_truth: str) -> Behavior:
    """The behavior a row teaches, read from its ground truth when the row carries no label."""
    if parse_tool_calls(ground_truth) is not None:
        return "execute"
    return "refuse" if is_refusal(ground_truth) else "clarify"

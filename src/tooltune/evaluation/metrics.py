"""Every evaluation metric for one answer to one row, and their means per behavior.

Text metrics come from established implementations (``rouge-score`` for ROUGE, ``sacrebleu`` for
BLEU); the tool-call metrics come from the same scorer that trains (``tooltune.rewards``), so a
model is judged by exactly what it was rewarded for. Answers and references that are tool calls are
compared in canonical ``<TOOLCALL>`` form, so key order and spacing are not counted as errors.

Torch-free.
"""

from __future__ import annotations

import re
import string
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ..data.naming import NAME_STYLES
from ..data.records import Record
from ..reading import quote_sources
from ..rewards.builtin import score_record
from ..rewards.grounding import grounding
from ..schema import BEHAVIORS, format_tool_calls, parse_tool_calls, split_reasoning

__all__ = ["RowScore", "Summary", "score_answer", "summarize", "canonical", "normalize_text", "token_f1", "METRICS", "DECISIONS"]

# Row metrics, in report order. BLEU is also reported corpus-level (``bleu_corpus``), which is the
# figure papers quote; the row mean is what a per-row table can show.
METRICS = (
    "toolcall_reward", "strict_reward", "aggregate_reward", "decision_accuracy", "exact_call", "invented_values",
    "rouge1", "rouge2", "rougeL", "bleu", "exact_match", "quasi_exact_match", "token_f1", "quasi_token_f1",
)
DECISIONS = ("call", "ask", "refuse", "answer")


def canonical(text: str) -> str:
    """A tool-call answer in canonical form; any other answer stripped (reasoning removed)."""
    _, answer = split_reasoning(text or "")
    calls = parse_tool_calls(answer)
    return format_tool_calls(calls) if calls else answer.strip()


_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalize_text(text: str) -> str:
    """SQuAD-style normalization: lower case, no punctuation, no articles, single spaces."""
    return " ".join(_ARTICLES.sub(" ", text.casefold().translate(_PUNCTUATION)).split())


def token_f1(prediction: list[str], reference: list[str]) -> float:
    """Harmonic mean of token precision and recall (bag of tokens, as SQuAD's F1)."""
    if not prediction or not reference:
        return float(prediction == reference)
    common = sum((Counter(prediction) & Counter(reference)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(prediction), common / len(reference)
    return 2 * precision * recall / (precision + recall)


@lru_cache(maxsize=1)
def _rouge() -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)


@dataclass
class RowScore:
    """All metrics for one answer, plus what the answer decided and why it lost credit."""

    metrics: dict[str, float]
    behavior: str
    decision: str  # call | ask | refuse | answer
    failure: str | None  # the strict scorer's failure kind (wrong_tool, missing_argument, ...)


def score_answer(record: Record, answer: str) -> RowScore:
    strict = score_record(record, answer, "strict")
    reference = score_record(record, answer, "toolcall")
    pred, ref = canonical(answer), canonical(record.ground_truth)
    rouge = _rouge().score(ref, pred)
    decided = float(strict.decision_correct)
    metrics = {
        "toolcall_reward": reference.value,
        "strict_reward": strict.value,
        # One number to rank models by: the two rewards and the decision, equally weighted.
        "aggregate_reward": (reference.value + strict.value + decided) / 3,
        "decision_accuracy": decided,
        "rouge1": rouge["rouge1"].fmeasure,
        "rouge2": rouge["rouge2"].fmeasure,
        "rougeL": rouge["rougeL"].fmeasure,
        "bleu": _sentence_bleu().sentence_score(pred, [ref]).score / 100,
        "exact_match": float(pred == ref),
        "quasi_exact_match": float(normalize_text(pred) == normalize_text(ref)),
        "token_f1": token_f1(pred.split(), ref.split()),
        "quasi_token_f1": token_f1(normalize_text(pred).split(), normalize_text(ref).split()),
    }
    if strict.behavior == "execute":
        # Right tool(s) and every argument right after normalization: the strict scorer's full credit.
        metrics["exact_call"] = float(strict.value >= 1.0)
    # Of the values an answer's calls carry, the share the conversation never states (rewards.grounding),
    # on every row whose answer calls: a call where the row should ask is where invented values show.
    invented = grounding(answer, record.tools, quote_sources(record.prompt)).invented_share
    if invented is not None:
        metrics["invented_values"] = invented
    return RowScore(metrics, strict.behavior, strict.decision, strict.failure)


@lru_cache(maxsize=1)
def _sentence_bleu() -> Any:
    from sacrebleu.metrics import BLEU

    # effective_order: a short answer without 4-gram matches is not zeroed outright (sacrebleu's
    # advice for sentence-level BLEU).
    return BLEU(effective_order=True)


@dataclass
class Summary:
    """Means of every metric per behavior and overall, the decision confusion table, failure counts."""

    rows: dict[str, int]
    metrics: dict[str, dict[str, float]]  # group ("all", "execute", ...) -> metric -> mean
    confusion: dict[str, dict[str, int]]  # intended behavior -> chosen decision -> count
    failures: list[tuple[str, int]] = field(default_factory=list)  # most common first

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "metrics": self.metrics, "confusion": self.confusion, "failures": dict(self.failures)}


def summarize(records: list[Record], answers: list[str], scores: list[RowScore]) -> Summary:
    from sacrebleu.metrics import BLEU

    groups: dict[str, list[RowScore]] = defaultdict(list)
    texts: dict[str, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    # Per shape, and per tool-name style of the rows `data generate --name-styles` renamed
    # (``extra_info.names``), when the file holds more than one (a single-call file's report stays
    # as it was). Only the generator's label counts: a user's tools mix styles in one list.
    shapes = [f"shape:{record.shape}" for record in records]
    labels = [extra.get("names") if isinstance(extra := record.raw.get("extra_info"), dict) else None for record in records]
    styles = [f"names:{label if label in NAME_STYLES else 'snake'}" for label in labels] if any(labels) else []
    kinds = [kind for kind in (shapes, styles) if len(set(kind)) > 1]
    for i, (record, answer, score) in enumerate(zip(records, answers, scores)):
        for group in ("all", score.behavior, *(kind[i] for kind in kinds)):
            groups[group].append(score)
            texts[group][0].append(canonical(answer))
            texts[group][1].append(canonical(record.ground_truth))
    order = ["all", *[b for b in BEHAVIORS if b in groups], *sorted(g for g in groups if g.startswith("shape:")), *sorted(g for g in groups if g.startswith("names:"))]
    metrics: dict[str, dict[str, float]] = {}
    for group in order:
        values: dict[str, list[float]] = defaultdict(list)
        for score in groups[group]:
            for name, value in score.metrics.items():
                values[name].append(value)
        metrics[group] = {name: sum(values[name]) / len(values[name]) for name in METRICS if values.get(name)}
        predictions, references = texts[group]
        metrics[group]["bleu_corpus"] = BLEU().corpus_score(predictions, [references]).score / 100
    confusion = {b: {d: 0 for d in DECISIONS} for b in BEHAVIORS if b in groups}
    for score in scores:
        confusion[score.behavior][score.decision] += 1
    failures = Counter(s.failure for s in scores if s.failure)
    return Summary({g: len(groups[g]) for g in order}, metrics, confusion, failures.most_common())


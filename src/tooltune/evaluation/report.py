"""The evaluation report: a Markdown table base vs customized, a confusion table, a PNG chart;
and the comparison of several evaluations of one held-out file (seeds, ablations) with their mean
and spread (``tooltune compare``).

Torch-free; matplotlib is imported only to draw the chart, with its file-only backend.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any, Callable

from .metrics import DECISIONS, METRICS

__all__ = ["markdown_report", "metric_rows", "bar_chart", "change", "load_evaluation", "comparison_table", "compare_evaluations", "ComparisonError"]

LABELS = {
    "toolcall_reward": "tool-call reward",
    "strict_reward": "strict reward",
    "aggregate_reward": "aggregate reward",
    "decision_accuracy": "decision accuracy",
    "exact_call": "exact call (execute)",
    "invented_values": "invented values (answers that call; lower is better)",
    "rouge1": "ROUGE-1",
    "rouge2": "ROUGE-2",
    "rougeL": "ROUGE-L",
    "bleu": "BLEU (row mean)",
    "bleu_corpus": "BLEU (corpus)",
    "exact_match": "exact match",
    "quasi_exact_match": "quasi-exact match",
    "token_f1": "token F1",
    "quasi_token_f1": "quasi-exact F1",
}
ORDER = tuple(name for metric in METRICS for name in ((metric, "bleu_corpus") if metric == "bleu" else (metric,)))


def change(base: float | None, value: float | None) -> str:
    """``+0.200 (+57%)``: absolute and relative change. The relative part is left out when the base
    is under 0.05: "+20000%" from a base of 0.003 says nothing the absolute change does not."""
    if base is None or value is None:
        return ""
    delta = value - base
    relative = f" ({delta / base:+.0%})" if base >= 0.05 else ""
    return f"{delta:+.3f}{relative}"


def markdown_report(results: dict[str, dict[str, Any]], title: str = "Evaluation") -> str:
    """``results`` maps a label ("base", "model") to a summary dict (``Summary.to_dict()``)."""
    labels = list(results)
    lines = [f"# {title}", ""]
    for group in results[labels[0]]["metrics"]:
        lines += _metric_table(results, group, ORDER, ("change", lambda v: change(v[0], v[1])) if len(labels) == 2 else None)
    for label in labels:
        confusion = results[label]["confusion"]
        lines += [f"## Decisions: {label} (rows: intended behavior, columns: what the answer did)", ""]
        lines += ["| intended | " + " | ".join(DECISIONS) + " |", "|---|" + "---|" * len(DECISIONS)]
        for behavior, counts in confusion.items():
            lines.append(f"| {behavior} | " + " | ".join(str(counts[d]) for d in DECISIONS) + " |")
        failures = results[label].get("failures") or {}
        if failures:
            lines += ["", f"Most common failures ({label}): " + ", ".join(f"{k} {v}" for k, v in list(failures.items())[:8])]
        lines.append("")
    return "\n".join(lines)


def bar_chart(results: dict[str, dict[str, Any]], path: str | Path, metrics: tuple[str, ...] = ("toolcall_reward", "strict_reward", "decision_accuracy", "exact_call", "rougeL")) -> Path:
    """Grouped bars: each metric overall and per behavior, one bar per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(results)
    groups = list(results[labels[0]]["metrics"])
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.2 * len(metrics), 3.4), sharey=True)
    width = 0.8 / len(labels)
    for ax, metric in zip(axes, metrics):
        for k, label in enumerate(labels):
            values = [results[label]["metrics"].get(g, {}).get(metric, 0.0) for g in groups]
            ax.bar([i + k * width for i in range(len(groups))], values, width, label=label)
        ax.set_title(LABELS[metric], fontsize=9)
        ax.set_xticks([i + width * (len(labels) - 1) / 2 for i in range(len(groups))], groups, fontsize=8, rotation=30)
        ax.set_ylim(0, 1)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


class ComparisonError(ValueError):
    """Evaluations that cannot be set side by side; the message says which and what to do."""


def load_evaluation(ref: str | Path) -> tuple[dict[str, Any], dict[str, Any], Path]:
    """(one model's summary, the data it was scored on, the eval.json read) from an ``eval.json``, an eval output
    directory, or a run directory (its ``eval/``). ``PATH#base`` picks the base model's result of
    an evaluation run with ``--base``; otherwise the evaluated model's."""
    text = str(ref)
    path_text, _, key = text.partition("#")
    path = Path(path_text)
    for candidate in (path, path / "eval.json", path / "eval" / "eval.json"):
        if candidate.is_file():
            path = candidate
            break
    else:
        what = "does not exist" if not path.exists() else "has no eval.json"
        raise ComparisonError(f"{path_text}: {what} (give an eval.json, the --out directory of `tooltune eval`, or a run directory with eval/)")
    written_by_eval = f"{path}: not an eval.json written by `tooltune eval`"
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ComparisonError(f"{written_by_eval} (not JSON: {exc})") from exc
    results, data = (saved.get("results"), saved.get("data")) if isinstance(saved, dict) else (None, None)
    if not isinstance(results, dict) or not results or not isinstance(data, dict) or not all(isinstance(r, dict) for r in results.values()):
        raise ComparisonError(f"{written_by_eval} (it needs a 'results' object per model and a 'data' object)")
    key = key or ("model" if "model" in results else next(iter(results)))
    if key not in results:
        raise ComparisonError(f"{path}: has no result {key!r}; it has {', '.join(sorted(results))}")
    return results[key], data, path


def comparison_table(results: dict[str, dict[str, Any]], data: dict[str, Any] | None = None, mean: bool = False,
                     metrics: tuple[str, ...] = ORDER) -> str:
    """Markdown: per behavior, each metric for each labelled summary; with ``mean``, a last column
    with their mean and (min-max), the way seeds of one recipe are reported. Every summary must come
    from the same held-out rows, or the columns would not measure the same thing."""
    labels = list(results)
    if not labels:
        raise ComparisonError("nothing to compare: give at least one evaluation")
    counts = {label: results[label]["rows"] for label in labels}
    if any(rows != counts[labels[0]] for rows in counts.values()):
        raise ComparisonError("these evaluations scored different numbers of rows: " + "; ".join(f"{k}: {v}" for k, v in counts.items())
                              + ". Evaluate every model on the same --data file, without --limit.")
    lines = []
    if data:
        lines += [f"Held-out file {data.get('path')} (sha256 {str(data.get('sha256'))[:8]}..., {data.get('rows')} rows).", ""]
    for group in results[labels[0]]["metrics"]:
        lines += _metric_table(results, group, metrics, (f"mean of {len(labels)} (min-max)", _mean_cell) if mean else None)
    return "\n".join(lines)


def metric_rows(results: dict[str, dict[str, Any]], group: str, metrics: tuple[str, ...] = ORDER,
                extra: Callable[[list[float | None]], str] | None = None) -> list[list[str]]:
    """One behavior's table, the one that reports, comparisons and the studio show: a row per metric
    any summary has ([its label, a cell per summary, and ``extra(values)`` if given: the change, the mean])."""
    out = []
    for metric in metrics:
        values = [summary["metrics"].get(group, {}).get(metric) for summary in results.values()]
        if all(v is None for v in values):
            continue
        out.append([LABELS[metric], *("" if v is None else f"{v:.3f}" for v in values), *([extra(values)] if extra else [])])
    return out


def _metric_table(results: dict[str, dict[str, Any]], group: str, metrics: tuple[str, ...],
                  extra: tuple[str, Callable[[list[float | None]], str]] | None = None) -> list[str]:
    """One behavior's section in Markdown: its heading with the row count, then :func:`metric_rows`
    under a column per label and the optional last column ``extra`` (its header, its cell function)."""
    labels = list(results)
    rows = results[labels[0]]["rows"][group]
    head = ["metric", *labels] + ([extra[0]] if extra else [])
    lines = [f"## {'all rows' if group == 'all' else group} ({rows} rows)", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cells) + " |" for cells in metric_rows(results, group, metrics, extra[1] if extra else None)]
    return lines + [""]


def _mean_cell(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    return f"{statistics.fmean(known):.3f} ({min(known):.3f}-{max(known):.3f})"


def compare_evaluations(refs: list[str], mean: bool = False) -> str:
    """The comparison table of ``refs`` (each ``[LABEL=]PATH[#base]``, PATH as ``load_evaluation``
    takes it; the label defaults to the run's name). Refuses evaluations of different
    held-out files: a mean over them would mix two measurements."""
    results: dict[str, dict[str, Any]] = {}
    files: dict[str, dict[str, Any]] = {}
    for ref in refs:
        label, sep, rest = ref.partition("=")
        if not sep or "/" in label:  # a path may hold "=", a label never holds "/"
            label, rest = "", ref
        summary, data, path = load_evaluation(rest)
        if not label:
            where = path.resolve().parent  # the eval --out directory, or a run's eval/
            where = where.parent if where.name == "eval" else where
            label = _run_name(where) + ("#" + rest.partition("#")[2] if "#" in rest else "")
        while label in results:
            label += "'"
        results[label], files[label] = summary, data
    shas = {label: data.get("sha256") for label, data in files.items()}
    if len(set(shas.values())) > 1:
        raise ComparisonError("these evaluations scored different held-out files: " + "; ".join(f"{k}: {files[k].get('path')} (sha256 {str(v)[:8]})" for k, v in shas.items())
                              + ". Evaluate every model on the same --data file.")
    return comparison_table(results, data=next(iter(files.values()), None), mean=mean)


def _run_name(where: Path) -> str:
    """A run's name from its manifest (run directories are often all called ``run``), else the folder's."""
    try:
        return str(json.loads((where / "run.json").read_text())["name"])
    except (OSError, ValueError, KeyError, TypeError):
        return where.name

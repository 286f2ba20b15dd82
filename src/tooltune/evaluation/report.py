"""The evaluation report: a Markdown table base vs customized, a confusion table, a PNG chart.

Torch-free; matplotlib is imported only to draw the chart, with its file-only backend.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .metrics import DECISIONS, METRICS

__all__ = ["markdown_report", "bar_chart", "change"]

LABELS = {
    "toolcall_reward": "tool-call reward",
    "strict_reward": "strict reward",
    "aggregate_reward": "aggregate reward",
    "decision_accuracy": "decision accuracy",
    "exact_call": "exact call (execute)",
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
ORDER = (*METRICS[:9], "bleu_corpus", *METRICS[9:])


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
    first = results[labels[0]]
    groups = list(first["metrics"])
    lines = [f"# {title}", ""]
    for group in groups:
        rows = first["rows"][group]
        lines.append(f"## {'all rows' if group == 'all' else group} ({rows} rows)")
        lines.append("")
        head = ["metric", *labels] + (["change"] if len(labels) == 2 else [])
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for metric in ORDER:
            values = [results[label]["metrics"].get(group, {}).get(metric) for label in labels]
            if all(v is None for v in values):
                continue
            cells = [LABELS[metric], *("" if v is None else f"{v:.3f}" for v in values)]
            if len(labels) == 2:
                cells.append(change(values[0], values[1]))
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
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

"""The training charts a user watches, drawn from the run's MLflow metric history."""

from __future__ import annotations

import io

__all__ = ["CHARTS", "metric_history", "chart_png"]

# chart id -> (title, MLflow keys drawn on it). SFT runs log loss instead of reward and advantage.
CHARTS = {
    "reward": ("Train reward (mean, std)", ["train/reward_mean", "train/reward_std"]),
    "length": ("Episode (completion) length", ["train/completion_length"]),
    "entropy": ("Policy entropy", ["train/entropy"]),
    "grad_norm": ("Gradient norm", ["train/grad_norm"]),
    "advantage": ("Mean advantage", ["train/advantage_mean"]),
    "loss": ("Training loss", ["train/loss"]),
    # fixed held-out rows answered greedily (training/validation.py): the curve that shows learning
    "validation": ("Validation reward (fixed rows, greedy)", ["validation/reward", "validation/reward_execute", "validation/reward_clarify", "validation/reward_refuse"]),
}


def metric_history(tracking_uri: str, run_id: str, keys: list[str]) -> dict[str, list[tuple[int, float]]]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri)
    return {key: sorted((m.step, m.value) for m in client.get_metric_history(run_id, key)) for key in keys}


def chart_png(title: str, series: dict[str, list[tuple[int, float]]]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(5, 2.8), dpi=100)
    drawn = False
    for key, points in series.items():
        if points:
            axes.plot([p[0] for p in points], [p[1] for p in points], marker="o" if len(points) < 30 else None, markersize=3, label=key.split("/", 1)[-1])
            drawn = True
    if drawn:
        axes.legend(fontsize=8)
    else:
        axes.text(0.5, 0.5, "not logged for this run", ha="center", va="center", transform=axes.transAxes, color="gray")
    axes.set_title(title, fontsize=10)
    axes.set_xlabel("step", fontsize=8)
    axes.tick_params(labelsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()

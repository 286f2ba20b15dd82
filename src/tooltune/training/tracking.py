"""MLflow tracking for training runs, as one transformers callback.

We log through MLflow's API ourselves rather than transformers' ``report_to="mlflow"``: a resumed
run must continue the *same* MLflow run without re-logging changed params (which MLflow rejects),
and three of the charts a user watches are ours to compute (reward per behavior, mean advantage,
the zero-variance group fraction under a stable name).
"""

from __future__ import annotations

import math
from typing import Any

from transformers import TrainerCallback

from ..runs.tracking import default_tracking_uri, use_experiment

__all__ = ["MlflowTracker", "CutRollouts"]

# TRL's log keys → the names our charts use (anything else is logged under its own name).
RENAME = {
    "reward": "train/reward_mean",
    "reward_std": "train/reward_std",
    "frac_reward_zero_std": "train/zero_variance_group_fraction",
    "completions/mean_length": "train/completion_length",
    "entropy": "train/entropy",
    "grad_norm": "train/grad_norm",
    "learning_rate": "train/learning_rate",
    "loss": "train/loss",
    "eval_reward": "eval/reward_mean",
}


class MlflowTracker(TrainerCallback):
    """Starts (or resumes) the run's MLflow run and logs every metric with its step."""

    def __init__(self, tracking_uri: str, run_name: str, params: dict[str, Any], run_id: str | None = None, rewards: Any = None):
        self.tracking_uri = tracking_uri
        self.run_name = run_name
        self.params = params
        self.run_id = run_id
        self.rewards = rewards
        self.trainer: Any = None  # set by the caller so the tracker can read GRPO advantages
        self.logged_through = -1  # a resumed run redoes the steps after its checkpoint: they are in MLflow already

    def start(self) -> str:
        import mlflow

        use_experiment(self.tracking_uri)
        if self.run_id:
            mlflow.start_run(run_id=self.run_id)
            client = mlflow.tracking.MlflowClient(self.tracking_uri)
            keys = client.get_run(self.run_id).data.metrics
            self.logged_through = max((m.step for key in keys for m in client.get_metric_history(self.run_id, key)), default=-1)
        else:
            run = mlflow.start_run(run_name=self.run_name)
            self.run_id = run.info.run_id
            mlflow.log_params({k: (str(v)[:500]) for k, v in self.params.items()})
        return self.run_id

    def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: D401 - transformers hook
        import mlflow

        if not state.is_world_process_zero or not logs or mlflow.active_run() is None:
            return
        metrics = {RENAME.get(k, k.replace("@", "_")): float(v) for k, v in logs.items() if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)}
        if self.rewards:
            by_behavior = self.rewards.flush()
            metrics.update(by_behavior)
            # Into the step's history entry too (Trainer.log appended it just before calling us),
            # so run.json and the quickstart's curve carry the per-behavior rewards.
            if state.log_history:
                state.log_history[-1].update(by_behavior)
        metrics.update(self._advantages())
        if metrics and state.global_step > self.logged_through:
            mlflow.log_metrics(metrics, step=state.global_step)

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        """Metrics computed outside TRL's logging (the validation reward), under the same run."""
        import mlflow

        if metrics and mlflow.active_run() is not None and step > self.logged_through:
            mlflow.log_metrics(metrics, step=step)

    def _advantages(self) -> dict[str, float]:
        # GRPO normalizes rewards within a group, so the signed mean is ~0 by construction; the
        # mean magnitude is the chart that shows how much signal the step had.
        logs = getattr(self.trainer, "_logs", None)
        values = list(logs.get("advantages", [])) if isinstance(logs, dict) else []
        if not values:
            return {}
        return {"train/advantage_mean": sum(values) / len(values), "train/advantage_abs_mean": sum(abs(v) for v in values) / len(values)}

    def end(self, status: str = "FINISHED") -> None:
        import mlflow

        if mlflow.active_run() is not None:
            mlflow.end_run(status=status)


class CutRollouts(TrainerCallback):
    """Says when GRPO's rollouts run into ``max_completion_length``: a cut answer parses as nothing
    and scores as wrong, so the policy learns to be short rather than right (at 128 tokens the
    recipe's runs cut 6-13% of their rollouts). Warns once, at the first step that cuts ``warn_at``
    or more, and gives the run's share at the end."""

    def __init__(self, limit: int, echo: Any, warn_at: float = 0.05):
        self.limit = limit
        self.echo = echo
        self.warn_at = warn_at
        self.ratios: list[float] = []

    def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: D401 - transformers hook
        ratio = (logs or {}).get("completions/clipped_ratio")
        if not state.is_world_process_zero or not isinstance(ratio, (int, float)):
            return
        if ratio >= self.warn_at and all(r < self.warn_at for r in self.ratios):
            self.echo(f"warning: step {state.global_step}: {ratio:.0%} of the rollouts ran to max_completion_length={self.limit} tokens and were cut off "
                      "(scored as unparseable, so GRPO learns to be short rather than right); raise max_completion_length in the spec")
        self.ratios.append(float(ratio))

    def on_train_end(self, args, state, control, **kwargs):
        if state.is_world_process_zero and self.ratios and (share := sum(self.ratios) / len(self.ratios)) > 0:
            self.echo(f"rollouts cut at max_completion_length={self.limit}: {share:.1%} over {len(self.ratios)} logged steps")

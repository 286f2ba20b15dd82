"""Where metrics and My Models live: an MLflow tracking URI and the ``tooltune`` experiment (no torch)."""

from __future__ import annotations

from pathlib import Path

from ..home import home

__all__ = ["EXPERIMENT", "default_tracking_uri", "use_experiment"]

EXPERIMENT = "tooltune"


def default_tracking_uri() -> str:
    return f"sqlite:///{home() / 'mlflow.db'}"


def use_experiment(tracking_uri: str) -> None:
    """Point MLflow at ``tracking_uri`` and the tooltune experiment, creating it on first use.

    With a SQLite store MLflow's default artifact root is ``./mlruns`` of whatever directory the
    command runs in; we put artifacts beside the database instead, so they stay in one place.
    """
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    if mlflow.get_experiment_by_name(EXPERIMENT) is None:
        location = None
        if tracking_uri.startswith("sqlite:///"):
            location = (Path(tracking_uri[len("sqlite:///"):]).parent / "mlartifacts").resolve().as_uri()
        mlflow.create_experiment(EXPERIMENT, artifact_location=location)
    mlflow.set_experiment(EXPERIMENT)

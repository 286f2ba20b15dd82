"""Runs and My Models, without torch: run directories and their manifests, the MLflow tracking
store, and the registry of versions (``NAME@VERSION``), so every command that only reads or lists
models stays quick to start."""

from .dirs import RunError, file_sha256, last_checkpoint, process_state, read_manifest, resolve_run, run_dir_for, runs_dir, this_process, write_manifest
from .refs import ModelRef, ModelRefError, is_run, resolve_ref
from .registry import Registry, RegistryError, check_model_name, default_model_name, parse_ref, record_evaluations, register_finished_run
from .tracking import default_tracking_uri, use_experiment

__all__ = [
    "RunError", "file_sha256", "last_checkpoint", "process_state", "this_process", "read_manifest", "resolve_run", "run_dir_for", "runs_dir", "write_manifest",
    "ModelRef", "ModelRefError", "is_run", "resolve_ref",
    "Registry", "RegistryError", "check_model_name", "default_model_name", "parse_ref", "record_evaluations", "register_finished_run",
    "default_tracking_uri", "use_experiment",
]

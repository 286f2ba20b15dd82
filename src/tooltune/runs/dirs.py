"""Run directories: where a training run keeps checkpoints, its final model and ``run.json``.

    runs/<name>/
      checkpoints/checkpoint-<step>/   TRL/transformers checkpoints (resume picks the last)
      model/                           final merged transformers folder (+ tokenizer, chat template)
      adapter/                         the LoRA adapter, when LoRA was used
      run.json                         manifest: spec, base, data hashes, metrics, timing, status

Stages hand off through these files; nothing here imports torch.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from ..home import home

__all__ = ["RunError", "runs_dir", "run_dir_for", "resolve_run", "read_manifest", "write_manifest", "file_sha256", "last_checkpoint", "process_state", "process_started", "this_process"]


class RunError(ValueError):
    """A run that is not there, or has no final model yet; the message says where it looked or what to do."""


def runs_dir() -> Path:
    path = home() / "runs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def run_dir_for(name: str | None, output_dir: str | None, technique: str) -> Path:
    if output_dir:
        return Path(output_dir)
    return runs_dir() / (name or f"{technique}-{time.strftime('%Y%m%d-%H%M%S')}")


def resolve_run(ref: str) -> Path:
    """A run by name (under the runs directory) or by path, with or without ``run:`` before it."""
    ref = ref.removeprefix("run:")
    path = Path(ref)
    if (path / "run.json").exists():
        return path
    candidate = runs_dir() / ref
    if (candidate / "run.json").exists():
        return candidate
    looked = " and ".join(dict.fromkeys(f"{p}/run.json" for p in (path, candidate)))  # an absolute ref is both
    raise RunError(f"run {ref!r} not found (looked for {looked}); give a run's folder (the one holding run.json) or its name under {runs_dir()}")


def process_started(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks since boot, /proc/PID/stat field 22); None where unknown."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def this_process() -> dict[str, Any]:
    """What run.json records of the process that trains it, for :func:`process_state` to read."""
    return {"pid": os.getpid(), "pid_started": process_started(os.getpid()), "host": socket.gethostname()}


def process_state(manifest: dict[str, Any]) -> str | None:
    """For a run that says "running": "alive" while the process that wrote it trains, "gone" once it
    no longer exists (killed with SIGKILL, or by the out-of-memory killer: nothing could write its
    end; a pid now held by another process, as a restarted container numbers from 1 again, counts
    as gone); None where it cannot be told (another machine, no pid, not running)."""
    pid = manifest.get("pid")
    if manifest.get("status") != "running" or not isinstance(pid, int) or manifest.get("host") != socket.gethostname():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return "gone"
    except PermissionError:  # another user's live process
        pass
    started = manifest.get("pid_started")
    return "gone" if started is not None and process_started(pid) not in (None, started) else "alive"


def read_manifest(run: Path) -> dict[str, Any]:
    return json.loads((run / "run.json").read_text())


def write_manifest(run: Path, manifest: dict[str, Any]) -> None:
    run.mkdir(parents=True, exist_ok=True)
    tmp = run / "run.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str))
    tmp.replace(run / "run.json")  # atomic: a kill never leaves half a manifest


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def last_checkpoint(run: Path) -> Path | None:
    checkpoints = sorted((run / "checkpoints").glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]) if p.name.split("-")[-1].isdigit() else -1)
    return checkpoints[-1] if checkpoints else None

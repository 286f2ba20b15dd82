"""Background jobs: customize and evaluate without keeping a terminal open.

    tooltune jobs submit job.yaml [key=value ...] [--backend ray --address URL]
    tooltune jobs list | status ID | logs ID [--follow] | cancel ID

A job is a tooltune command (``train SPEC`` or ``eval ...``) that runs in the background. Its spec
is validated when it is submitted (a bad path or reward fails at once, not minutes later); then the
local backend's worker (local.py) or a Ray cluster (ray_backend.py) runs it. State lives in SQLite
under the tooltune home (store.py); the CLI and the studio are two faces over these functions.
A training job registers its result like ``tooltune train`` does, and evaluates it against its
base when the spec sets ``eval_data``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, Iterator

from .store import FINISHED, STATES, Job, JobStore, jobs_dir

__all__ = ["Job", "JobStore", "STATES", "FINISHED", "submit_train", "submit_eval", "get_job", "list_jobs", "job_logs", "follow_logs", "cancel_job", "wait"]

BACKENDS = ("local", "ray")


def _command(backend: str) -> list[str]:
    # Locally the very interpreter that submitted; on a cluster, whatever `python` has tooltune there.
    return [sys.executable if backend == "local" else "python", "-m", "tooltune.cli.main"]


def _enqueue(store: JobStore, kind: str, title: str, args: list[str], backend: str, address: str | None, result: dict[str, Any], job_dir: Path, write: dict[str, str]) -> Job:
    if backend not in BACKENDS:
        raise ValueError(f"backend: must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if backend == "ray" and not address:
        raise ValueError("the ray backend needs --address (the Ray dashboard, e.g. http://127.0.0.1:8265)")
    job_dir.mkdir(parents=True, exist_ok=True)
    for name, text in write.items():
        (job_dir / name).write_text(text)
    job = store.add(kind, title, _command(backend) + args, backend, job_dir=job_dir, address=address, result=result)
    if backend == "local":
        from .local import start_worker

        start_worker()
    else:
        from ..home import home
        from .ray_backend import submit_ray

        try:
            submit_ray(job, job.argv, env={"TOOLTUNE_HOME": str(home())})
        except Exception as exc:
            store.update(job.id, status="failed", finished=time.time(), error=f"Ray refused the job: {exc}")
            raise
    return store.get(job.id)


def submit_train(spec_file: str | None, overrides: list[str] | dict[str, Any] | None = None, backend: str = "local", address: str | None = None, store: JobStore | None = None) -> Job:
    """Validate a training spec now and queue it; raises SpecError / RegistryError with the fix."""
    import yaml

    from ..runs import is_run, resolve_ref
    from ..training import load_spec
    from ..runs import runs_dir

    spec = load_spec(spec_file, overrides, isolate_reward=True)  # the queue (and the studio) never import a user's reward
    resolve_ref(spec.base)  # a missing NAME@V fails here, not in the background
    store = store or JobStore()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    spec.name = spec.name or f"{spec.technique}-{stamp}"
    run = Path(spec.output_dir) if spec.output_dir else runs_dir() / spec.name
    if is_run(run):
        raise ValueError(f"run {run} exists already; give the job another name= (or resume it with `tooltune train --resume {run}`)")
    spec.output_dir = str(run.resolve())
    title = f"{spec.technique} {spec.base} on {Path(spec.train_data).name}"
    job_dir = jobs_dir() / f"{spec.name}-{stamp}"
    return _enqueue(store, "train", title, ["train", "spec.yaml"], backend, address, {"run": spec.output_dir}, job_dir, {"spec.yaml": yaml.safe_dump(spec.to_dict(), sort_keys=False)})


def submit_eval(model: str, data: str, base: str | None = None, out: str | None = None, extra: list[str] | None = None, backend: str = "local", address: str | None = None, store: JobStore | None = None) -> Job:
    """Queue ``tooltune eval``: ``model`` (and ``base``) answer ``data``; results land in ``out``."""
    from ..data import read_records
    from ..runs import resolve_ref

    refs = [resolve_ref(m) for m in (model, base) if m]  # unknown versions and missing models fail now
    if not read_records(data):  # a malformed file fails now, with its line and field; an empty one too
        raise ValueError(f"{data} has no rows to evaluate")
    store = store or JobStore()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    if out is None:
        out = str((refs[0].run or jobs_dir() / f"eval-{stamp}") / f"eval-{stamp}")
    args = ["eval", "--model", model, "--data", str(Path(data).resolve()), "--out", out] + (["--base", base] if base else []) + list(extra or [])
    title = f"eval {model}" + (f" vs {base}" if base else "") + f" on {Path(data).name}"
    return _enqueue(store, "eval", title, args, backend, address, {"eval": out}, jobs_dir() / f"eval-{stamp}", {})


def get_job(job_id: str, store: JobStore | None = None) -> Job:
    """A job by id (or a unique end of it), with its state brought up to date."""
    store = store or JobStore()
    job = store.get(job_id)
    if job.backend == "ray" and job.status not in FINISHED:
        from .ray_backend import ray_status

        try:
            status, error = ray_status(job)
        except Exception:  # noqa: BLE001 - an unreachable cluster must not break `jobs list`: show the last known state
            return job
        if status != job.status:
            store.update(job.id, status=status, error=error, **({"finished": time.time()} if status in FINISHED else {}))
            job = store.get(job.id)
    elif job.status == "running":
        from .local import reconcile

        reconcile(store)
        job = store.get(job.id)
    return job


def list_jobs(status: str | None = None, limit: int | None = None, store: JobStore | None = None) -> list[Job]:
    store = store or JobStore()
    from .local import reconcile

    reconcile(store)
    return [get_job(j.id, store) if j.backend == "ray" and j.status not in FINISHED else j for j in store.list(status, limit)]


def job_logs(job_id: str, offset: int = 0, store: JobStore | None = None) -> tuple[str, int]:
    """The job's log from byte ``offset`` on, and the offset to ask from next time."""
    job = (store or JobStore()).get(job_id)
    if job.backend == "ray":
        from .ray_backend import ray_logs

        text = ray_logs(job)
        return text[offset:], len(text)
    if not job.log_path.exists():
        return "", offset
    offset = min(max(0, offset), job.log_path.stat().st_size)  # a stale or made-up offset reads nothing, not an error
    with open(job.log_path, "rb") as handle:
        handle.seek(offset)
        data = handle.read()
    return data.decode("utf-8", errors="replace"), offset + len(data)


def follow_logs(job_id: str, poll_s: float = 0.5, store: JobStore | None = None) -> Iterator[str]:
    """The log as it grows, until the job finishes."""
    store = store or JobStore()
    job = store.get(job_id)
    if job.backend == "ray":
        from .ray_backend import ray_follow

        yield from ray_follow(job)
        return
    offset = 0
    while True:
        text, offset = job_logs(job_id, offset, store)
        if text:
            yield text
        elif get_job(job_id, store).status in FINISHED:
            text, offset = job_logs(job_id, offset, store)  # what was written just before it ended
            if text:
                yield text
            return
        else:
            time.sleep(poll_s)


def cancel_job(job_id: str, store: JobStore | None = None) -> Job:
    store = store or JobStore()
    job = store.get(job_id)
    if job.status in FINISHED:
        return job
    if job.backend == "ray":
        from .ray_backend import ray_cancel

        ray_cancel(job)
        store.update(job.id, status="cancelled", finished=time.time())
    else:
        from .local import cancel_local

        cancel_local(store, job)
    return store.get(job.id)


def wait(job_id: str, timeout_s: float = 600, poll_s: float = 0.5, store: JobStore | None = None) -> Job:
    """Block until the job finishes (tests, scripts); TimeoutError past ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        job = get_job(job_id, store)
        if job.status in FINISHED:
            return job
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} still {job.status} after {timeout_s:.0f} s")
        time.sleep(poll_s)

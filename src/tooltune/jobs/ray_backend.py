"""The Ray backend: the same job, submitted through Ray's job submission API.

    tooltune jobs submit job.yaml --backend ray --address http://HEAD:8265

The job's folder (its spec.yaml) travels as the Ray job's ``working_dir``; the entrypoint is the
same ``tooltune train spec.yaml`` the local backend runs, so the cluster's Python needs tooltune
installed, and the data paths in the spec must be readable there (a shared filesystem, or the
same paths on the head node). Ray keeps the job's status and logs; tooltune keeps its id.
Needs ``pip install 'ray[default]'`` on the submitting machine.
"""

from __future__ import annotations

import shlex
from typing import Any, Iterator

from .store import Job

__all__ = ["submit_ray", "ray_status", "ray_logs", "ray_cancel", "RAY_STATES"]

# Ray's JobStatus values -> ours.
RAY_STATES = {"PENDING": "queued", "RUNNING": "running", "SUCCEEDED": "succeeded", "FAILED": "failed", "STOPPED": "cancelled"}


def _client(address: str) -> Any:
    try:
        from ray.job_submission import JobSubmissionClient
    except ImportError as exc:
        raise RuntimeError("the ray backend needs Ray's job client: pip install 'ray[default]'") from exc
    return JobSubmissionClient(address)


def submit_ray(job: Job, entrypoint: list[str], env: dict[str, str] | None = None) -> str:
    runtime_env: dict[str, Any] = {"working_dir": job.dir}
    if env:
        runtime_env["env_vars"] = env
    return _client(job.address).submit_job(entrypoint=shlex.join(entrypoint), submission_id=job.id, runtime_env=runtime_env)


def ray_status(job: Job) -> tuple[str, str | None]:
    info = _client(job.address).get_job_info(job.id)
    status = RAY_STATES.get(str(getattr(info.status, "value", info.status)), "running")
    return status, (info.message if status == "failed" else None)


def ray_logs(job: Job) -> str:
    return _client(job.address).get_job_logs(job.id)


def ray_follow(job: Job) -> Iterator[str]:
    """Ray's log stream (async under the hood), as lines."""
    import asyncio

    client = _client(job.address)
    loop = asyncio.new_event_loop()
    stream = client.tail_job_logs(job.id).__aiter__()
    try:
        while True:
            try:
                yield loop.run_until_complete(stream.__anext__())
            except StopAsyncIteration:
                return
    finally:
        loop.close()


def ray_cancel(job: Job) -> None:
    _client(job.address).stop_job(job.id)

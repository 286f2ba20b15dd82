"""The local backend: a detached worker runs queued jobs, each as its own `tooltune ...` process.

``submit`` records the job and makes sure a worker is alive; the worker starts in a new session
(it survives the terminal that submitted it closing), takes queued jobs oldest first while fewer
than ``TOOLTUNE_JOBS_MAX`` (default 1: one training at a time on a small machine) run, and exits
when the queue is empty. One worker at a time holds ``worker.lock`` (an flock, so a worker that
dies releases it); a second one started meanwhile exits at once.

    python -m tooltune.jobs.local      # what submit starts; safe to run by hand
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .store import Job, JobStore, jobs_dir

__all__ = ["start_worker", "worker_alive", "cancel_local", "max_concurrent", "reconcile"]

POLL_S = 0.5


def max_concurrent() -> int:
    value = os.environ.get("TOOLTUNE_JOBS_MAX", "1")
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"TOOLTUNE_JOBS_MAX must be a positive integer, got {value!r}")
    return int(value)


def _lock_path() -> Path:
    return jobs_dir() / "worker.lock"


def worker_alive() -> bool:
    with open(_lock_path(), "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def start_worker() -> None:
    """Start a detached worker (it exits at once if another one holds the lock)."""
    log = open(jobs_dir() / "worker.log", "a")
    subprocess.Popen([sys.executable, "-m", "tooltune.jobs.local"], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=os.environ.copy())
    log.close()


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reconcile(store: JobStore) -> None:
    """Mark running jobs whose worker and process are both gone as failed (a reboot, a kill -9)."""
    running = store.running()
    if running and not worker_alive():
        for job in running:
            if not _alive(job.pid):
                store.update(job.id, only_if=("running",), status="failed", finished=time.time(), error="the job's process ended without reporting (its worker was killed or the machine restarted); resubmit it, or resume its run with `tooltune train --resume RUN`")


def cancel_local(store: JobStore, job: Job) -> None:
    if store.update(job.id, only_if=("queued",), status="cancelled", finished=time.time()):
        return
    if store.update(job.id, only_if=("running",), status="cancelled", finished=time.time()) and job.pid:
        try:
            os.killpg(job.pid, signal.SIGTERM)  # the whole group: `tooltune train` and anything it started
        except ProcessLookupError:
            pass


def _die_with_worker() -> None:
    """In the child, before exec: Linux sends it SIGTERM when the worker dies, so a killed worker
    leaves no job running unowned (and the next worker cannot start a second one beside it)."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _start(store: JobStore, job: Job) -> subprocess.Popen:
    log = open(job.log_path, "ab")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TOOLTUNE_JOB_ID": job.id}
    process = subprocess.Popen(job.argv, cwd=job.dir, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env, preexec_fn=_die_with_worker)
    log.close()
    if not store.update(job.id, only_if=("queued",), status="running", started=time.time(), pid=process.pid):
        os.killpg(process.pid, signal.SIGTERM)  # cancelled between being picked and starting
    return process


def _drain(store: JobStore) -> None:
    children: dict[str, subprocess.Popen] = {}
    while True:
        for job in store.queued()[: max(0, max_concurrent() - len(children))]:
            children[job.id] = _start(store, job)
        for job_id, process in list(children.items()):
            code = process.poll()
            if code is None:
                continue
            del children[job_id]
            status = "succeeded" if code == 0 else "failed"
            error = None if code == 0 else f"exited with code {code}; the last lines of `tooltune jobs logs {job_id}` say why"
            # The result goes in with the status, in one write: a waiter that sees "succeeded"
            # must also see the model the run registered, not a moment later.
            result = _result(store.get(job_id)) if code == 0 else {}
            store.update(job_id, only_if=("running",), status=status, finished=time.time(), returncode=code, error=error, **result)
        if not children and not store.queued():
            return
        time.sleep(POLL_S)


def _result(job: Job) -> dict:
    """What a finished training job made: the version its run.json says it registered."""
    from ..runs import is_run, read_manifest

    run = Path(job.result.get("run", ""))
    registered = read_manifest(run).get("registered") if is_run(run) else None
    if not registered:
        return {}
    return {"result": {**job.result, "model": f"{registered['name']}@{registered['version']}"}}


def main() -> None:
    store = JobStore()
    with open(_lock_path(), "a") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # another worker is draining the queue
            try:
                _drain(store)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
            # A job submitted after the last look but before the unlock would wait for nobody: look again.
            if not store.queued():
                return


if __name__ == "__main__":
    main()

"""Background jobs on the local backend: validation at submission, a detached worker, queue order, cancel, logs."""

import json
import os
import sqlite3
import sys
import time

import pytest
from click.testing import CliRunner

from tooltune.cli.main import cli
from tooltune.jobs import cancel_job, follow_logs, get_job, job_logs, list_jobs, submit_eval, submit_train, wait
from tooltune.jobs.local import start_worker
from tooltune.jobs.store import MIGRATIONS, JobStore
from tooltune.training import SpecError

FAST = {"technique": "sft", "batch_size": 4, "micro_batch_size": 4, "max_length": 320, "dtype": "float32", "max_steps": 1}


def _sleeper(store, seconds, title="sleep"):
    """A job whose command is a plain sleep: the worker's behavior without training's cost."""
    return store.add("train", title, [sys.executable, "-c", f"import time; print('started', flush=True); time.sleep({seconds}); print('done')"], "local")


def test_a_bad_spec_fails_at_submission_and_queues_nothing(tiny_model, small_data):
    with pytest.raises(SpecError, match="did you mean 'batch_size'"):
        submit_train(None, {"base": tiny_model, "train_data": str(small_data["train"]), "batch_sise": 8})
    with pytest.raises(SpecError, match="does not exist"):
        submit_train(None, {"base": tiny_model, "train_data": "/nowhere/train.jsonl"})
    result = CliRunner().invoke(cli, ["jobs", "submit", "/nowhere/job.yaml"])
    assert result.exit_code == 1 and "does not exist" in result.output
    assert list_jobs() == []


def test_training_job_runs_detached_registers_and_evaluates(tiny_model, small_data, tooltune_home):
    job = submit_train(None, {"base": tiny_model, "train_data": str(small_data["train"]), "eval_data": str(small_data["eval"]), "name": "bg", **FAST})
    assert job.status in ("queued", "running") and job.kind == "train"
    done = wait(job.id, timeout_s=300)
    assert done.status == "succeeded", job_logs(job.id)[0][-3000:]
    assert done.result["run"].endswith("bg") and done.result["model"] == "model-tooltune@1"
    log = job_logs(job.id)[0]
    assert "run bg done" in log and "registered model-tooltune@1" in log
    # eval_data: the result was scored against its base, and the version remembers the scores
    assert (tooltune_home / "runs" / "bg" / "eval" / "eval.json").exists()
    from tooltune.runs import Registry

    evaluations = Registry().get("model-tooltune", "1").to_dict()["evaluations"]
    assert "toolcall_reward" in evaluations["eval"]
    listed = CliRunner().invoke(cli, ["jobs", "list"]).output
    assert job.id in listed and "succeeded" in listed and "model-tooltune@1" in listed
    shown = json.loads(CliRunner().invoke(cli, ["jobs", "status", job.id[-6:], "--json"]).output)
    assert shown["id"] == job.id and shown["returncode"] == 0
    plain = CliRunner().invoke(cli, ["jobs", "status", job.id]).output
    assert "\n  model: model-tooltune@1\n" in plain and "{" not in plain  # one line per result, not a dict


def test_eval_job_writes_its_report(tiny_model, small_data, tmp_path):
    job = submit_eval(tiny_model, str(small_data["eval"]), out=str(tmp_path / "ev"), extra=["--limit", "2", "--max-new-tokens", "8"])
    assert wait(job.id, timeout_s=300).status == "succeeded", job_logs(job.id)[0][-3000:]
    assert (tmp_path / "ev" / "report.md").exists() and get_job(job.id).result["eval"] == str(tmp_path / "ev")


def test_one_job_at_a_time_in_submission_order():
    store = JobStore()
    first, second = _sleeper(store, 1.0, "first"), _sleeper(store, 0.2, "second")
    start_worker()
    start_worker()  # a second worker finds the lock taken and leaves
    first, second = wait(first.id, 60, store=store), wait(second.id, 60, store=store)
    assert first.status == second.status == "succeeded"
    assert second.started >= first.finished - 0.1


def test_cancel_a_running_and_a_queued_job():
    store = JobStore()
    running, queued = _sleeper(store, 60), _sleeper(store, 60)
    start_worker()
    deadline = time.monotonic() + 30
    while get_job(running.id, store).status != "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    pid = get_job(running.id, store).pid
    assert os.getsid(pid) == pid  # its own session: closing the submitting terminal does not reach it
    assert cancel_job(queued.id, store).status == "cancelled"
    assert cancel_job(running.id, store).status == "cancelled"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the cancelled job's process is still alive")
    time.sleep(1.0)  # the worker has seen the exit; a cancelled job stays cancelled
    assert get_job(running.id, store).status == "cancelled" and get_job(queued.id, store).started is None


def test_logs_follow_until_the_job_ends():
    store = JobStore()
    job = _sleeper(store, 0.5)
    start_worker()
    text = "".join(follow_logs(job.id, poll_s=0.1, store=store))
    assert "started" in text and "done" in text


def test_a_job_whose_worker_died_is_marked_failed():
    store = JobStore()
    job = _sleeper(store, 0)
    store.update(job.id, status="running", started=time.time(), pid=2**22 + 12345)  # no such process, no worker
    found = get_job(job.id, store)
    assert found.status == "failed" and "resubmit" in found.error


def test_store_schema_is_migrated_and_ids_resolve_by_their_end(tmp_path):
    store = JobStore(tmp_path / "jobs.db")
    assert sqlite3.connect(tmp_path / "jobs.db").execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    job = store.add("train", "t", ["true"], "local", job_dir=tmp_path / "j")
    assert store.get(job.id[-6:]).id == job.id
    with pytest.raises(KeyError, match="jobs list"):
        store.get("nope")


def test_killing_the_worker_ends_its_running_job_and_marks_it_failed():
    import signal

    store = JobStore()
    job = _sleeper(store, 60)
    start_worker()
    deadline = time.monotonic() + 30
    while get_job(job.id, store).status != "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    pid = get_job(job.id, store).pid
    worker = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])  # the child's parent
    os.kill(worker, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = get_job(job.id, store)
        if found.status == "failed":
            break
        time.sleep(0.2)
    assert found.status == "failed" and "resubmit" in found.error
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # no job left running unowned beside the next one

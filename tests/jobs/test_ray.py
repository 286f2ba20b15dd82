"""The Ray backend against a real local Ray head started by the test (slow: run with -m slow).

Needs `pip install -e '.[ray]'`. The head runs with this virtual environment first on its PATH, so
the job's `python -m tooltune.cli.main train spec.yaml` finds tooltune as a cluster's Python would.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tooltune.jobs import cancel_job, job_logs, list_jobs, submit_train, wait

pytestmark = pytest.mark.slow
pytest.importorskip("ray.job_submission", reason="needs Ray's job client: pip install -e '.[ray]'")


def _port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def ray_head():
    ray = str(Path(sys.executable).with_name("ray"))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "RAY_USAGE_STATS_ENABLED": "0"}
    dashboard = _port()
    # A short temp dir: Ray's unix sockets live under it and a socket path is capped at 107 bytes.
    temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")
    started = subprocess.run([ray, "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(_port()), "--dashboard-host", "127.0.0.1", "--dashboard-port", str(dashboard),
                              "--num-cpus", "2", "--include-dashboard", "true", "--temp-dir", temp], env=env, capture_output=True, text=True, timeout=180)
    assert started.returncode == 0, started.stdout[-2000:] + started.stderr[-2000:]
    try:
        yield f"http://127.0.0.1:{dashboard}"
    finally:
        subprocess.run([ray, "stop", "--force"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(temp, ignore_errors=True)


def test_a_training_job_runs_on_a_ray_cluster(ray_head, tiny_model, small_data, tooltune_home):
    spec = {"base": tiny_model, "train_data": str(small_data["train"]), "technique": "sft", "batch_size": 4, "micro_batch_size": 4, "max_length": 320, "dtype": "float32", "max_steps": 1, "name": "on-ray"}
    job = submit_train(None, spec, backend="ray", address=ray_head)
    assert job.backend == "ray" and job.address == ray_head
    done = wait(job.id, timeout_s=600, poll_s=2)
    assert done.status == "succeeded", job_logs(job.id)[0][-3000:]
    assert "run on-ray done" in job_logs(job.id)[0]
    assert (tooltune_home / "runs" / "on-ray" / "model" / "config.json").exists()
    assert [j.status for j in list_jobs()] == ["succeeded"]
    # a job stopped through tooltune is stopped on the cluster
    slow = submit_train(None, {**spec, "name": "on-ray-2", "max_steps": 500}, backend="ray", address=ray_head)
    assert cancel_job(slow.id).status == "cancelled"

"""The studio's pages over HTTP (no browser): models, form validation with line-level errors, charts, downloads."""

import io
import json
import zipfile

import pytest
from fastapi.testclient import TestClient

from tests.test_registry import _run
from tooltune.jobs import list_jobs
from tooltune.runs import Registry
from tooltune.web.studio import create_studio


@pytest.fixture
def client():
    with TestClient(create_studio()) as c:
        yield c


@pytest.fixture
def no_worker(monkeypatch):
    """Submitted jobs stay queued: these tests look at submission, not at training."""
    monkeypatch.setattr("tooltune.jobs.local.start_worker", lambda: None)


def _form(**kw):
    return {"base": "smollm2-135m", "technique": "rlvr", "batch_size": "16", "micro_batch_size": "8", "learning_rate": "1e-5", "epochs": "1", "max_steps": "2", "rollouts": "8", **kw}


def test_models_page_lists_base_models_and_my_versions(client, tooltune_home, tiny_model):
    Registry().register(str(_run(tooltune_home, tiny_model, "a")), "weather-bot")
    page = client.get("/").text
    assert "smollm2-135m" in page and "/customize?base=smollm2-135m" in page
    assert "weather-bot@1" in page and "/models/weather-bot/1" in page


def test_a_malformed_upload_is_shown_line_by_line_and_nothing_runs(client, no_worker, weather_rows):
    good = json.dumps(weather_rows[0].raw)
    body = f"{good}\n{{oops\n" + json.dumps({"prompt": "x", "reward_model": {}}) + "\n"
    response = client.post("/customize", data=_form(), files={"train_file": ("train.jsonl", body.encode())})
    assert response.status_code == 400
    assert "problem(s) in 3 rows" in response.text and "nothing was submitted" in response.text
    assert "<td>2</td><td>&lt;json&gt;</td>" in response.text and "reward_model.ground_truth" in response.text
    assert list_jobs() == []


def test_a_bad_setting_comes_back_with_the_fix(client, no_worker, small_data):
    response = client.post("/customize", data=_form(train_path=str(small_data["train"]), batch_size="12"))
    assert response.status_code == 400 and "Try batch_size=8" in response.text
    assert 'value="12"' in response.text  # the form keeps what the user typed
    missing = client.post("/customize", data=_form())
    assert missing.status_code == 400 and "Choose a dataset" in missing.text


def test_a_valid_form_queues_a_job_with_the_uploaded_data(client, no_worker, small_data):
    response = client.post("/customize", data=_form(extra="max_completion_length=32 trl.beta=0.01"), files={"train_file": ("mine.jsonl", small_data["train"].read_bytes())}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/jobs/")
    (job,) = list_jobs()
    spec = (job.dir + "/spec.yaml")
    text = open(spec).read()
    assert "mine.jsonl" in text and "max_completion_length: 32" in text and "beta: 0.01" in text
    page = client.get(response.headers["location"]).text
    assert job.id in page and "queued" in page
    assert client.get(f"/api/jobs/{job.id}").json()["status"] == "queued"


def test_an_rlaif_form_queues_a_job_with_its_judge(client, no_worker, small_data):
    form = _form(technique="rlaif", train_path=str(small_data["train"]), judge_url="http://127.0.0.1:8001/v1", judge_model="grader", judge_weight="0.3")
    response = client.post("/customize", data={**form, "extra": "judge.timeout=20"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    import yaml

    (job,) = list_jobs()
    spec = yaml.safe_load(open(job.dir + "/spec.yaml"))
    assert spec["technique"] == "rlaif" and spec["reward"] == {"strict": 0.7, "judge": 0.3}
    assert spec["judge"] == {"url": "http://127.0.0.1:8001/v1", "model": "grader", "timeout": 20}
    no_judge = client.post("/customize", data=_form(technique="rlaif", train_path=str(small_data["train"])))
    assert no_judge.status_code == 400 and "rlaif needs a judge" in no_judge.text
    assert "AI judge (rlaif)" in client.get("/customize").text


def test_details_page_charts_and_downloads(client, tooltune_home, tiny_model):
    import mlflow

    run = _run(tooltune_home, tiny_model, "a")
    manifest = json.loads((run / "run.json").read_text())
    with mlflow.start_run(run_id=manifest["mlflow_run_id"]):
        for step, value in enumerate([0.1, 0.3, 0.5], start=1):
            mlflow.log_metric("train/reward_mean", value, step=step)
    Registry().register(str(run), "weather-bot")
    page = client.get("/models/weather-bot/1").text
    for chart in ("reward", "length", "entropy", "grad_norm", "advantage", "validation"):
        assert f"/models/weather-bot/1/chart/{chart}.png" in page
    assert "Continue customization" in page and "/customize?base=weather-bot%401" in page
    png = client.get("/models/weather-bot/1/chart/reward.png")
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    assert client.get("/models/weather-bot/1/chart/nope.png").status_code == 404
    assert client.get("/models/weather-bot/9").status_code == 404
    archive = client.get("/models/weather-bot/1/download?format=hf")
    assert archive.status_code == 200 and "config.json" in zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    gguf = client.get("/models/weather-bot/1/download?format=gguf")
    assert gguf.status_code == 200 and gguf.content[:4] == b"GGUF"
    for limit in ("abc", "0"):  # said at once, not by a job that fails later
        assert client.post("/models/weather-bot/1/evaluate", data={"eval_data": "x.jsonl", "limit": limit}).status_code == 400
    assert client.post("/models/weather-bot/1/deploy", data={"action": "restart"}, follow_redirects=False).status_code == 400
    import shutil

    shutil.rmtree(run / "model")  # its run's model deleted: the download says so, no 500
    gone = client.get("/models/weather-bot/1/download?format=hf")
    assert gone.status_code == 409 and "is gone" in gone.text

"""What the studio refuses: other sites' forms, strangers beyond loopback, running uploaded code."""

import os
import sys

import pytest
from fastapi.testclient import TestClient

from tooltune.jobs import list_jobs
from tooltune.web.deploy import Deployments
from tooltune.web.studio import TOKEN_COOKIE, create_studio

from .test_studio import _form, client, no_worker  # noqa: F401 - fixtures shared with the studio's page tests


EVIL_REWARD = b"""
import os
os.environ["TOOLTUNE_PWNED"] = "imported"
def reward(prompts, completions, **kw):
    return [0.0 for _ in completions]
"""


def test_a_form_posted_from_another_site_is_refused_and_queues_nothing(client, no_worker, small_data):
    data = _form(train_path=str(small_data["train"]))
    for header in ({"origin": "https://evil.example"}, {"referer": "https://evil.example/page.html"}):
        response = client.post("/customize", data=data, headers=header, follow_redirects=False)
        assert response.status_code == 403 and "evil.example" in response.text
    assert list_jobs() == []
    same = client.post("/customize", data=data, headers={"origin": "http://testserver"}, follow_redirects=False)
    assert same.status_code == 303
    for path in ("/jobs/x/cancel", "/models/a/1/deploy", "/models/a/1/evaluate"):
        assert client.post(path, headers={"origin": "http://attacker.test"}).status_code == 403


def test_an_uploaded_reward_is_checked_in_another_process_never_imported_by_the_studio(client, no_worker, small_data):
    os.environ.pop("TOOLTUNE_PWNED", None)
    before = {m for m in sys.modules if m.startswith("tooltune_user_reward")}
    response = client.post("/customize", data=_form(train_path=str(small_data["train"]), reward_function="reward"),
                           files={"reward_file": ("mine.py", EVIL_REWARD)}, follow_redirects=False)
    assert response.status_code == 303  # it loads (in a child process), so the job is queued
    assert "TOOLTUNE_PWNED" not in os.environ
    assert {m for m in sys.modules if m.startswith("tooltune_user_reward")} == before
    broken = client.post("/customize", data=_form(train_path=str(small_data["train"]), reward_function="reward"),
                         files={"reward_file": ("bad.py", b"import no_such_module_here\n")})
    assert broken.status_code == 400 and "no_such_module_here" in broken.text
    assert "A reward file is Python code" in client.get("/customize").text


def test_beyond_loopback_every_request_needs_the_printed_token(tooltune_home):
    app = create_studio(host="0.0.0.0")
    token = app.state.token
    assert token and len(token) >= 24
    with TestClient(app) as stranger:
        assert stranger.get("/").status_code == 401
        assert stranger.get("/?token=wrong").status_code == 401
        assert stranger.get("/api/jobs/1").status_code == 401
    with TestClient(app) as user:
        first = user.get(f"/?token={token}", follow_redirects=False)
        assert first.status_code == 303 and TOKEN_COOKIE in first.headers["set-cookie"] and "token=" not in first.headers["location"]
        user.cookies.set(TOKEN_COOKIE, token)
        assert user.get("/").status_code == 200
    assert create_studio().state.token is None  # loopback: no token


def test_no_500_for_odd_uploads_job_ids_and_offsets(client, no_worker, small_data):
    for name in ("..", "."):
        response = client.post("/customize", data=_form(), files={"train_file": (name, small_data["train"].read_bytes())}, follow_redirects=False)
        assert response.status_code in (303, 400), response.text
    # found by a hostile probe (each was a 500, a raw 422 or a job that failed later)
    for name in ("a\0b.jsonl", "x" * 300 + ".jsonl"):
        response = client.post("/customize", data=_form(), files={"train_file": (name, small_data["train"].read_bytes())}, follow_redirects=False)
        assert response.status_code in (303, 400), response.text
    for extra in ("trl=5 trl.beta=1", "trl.beta=1 trl=5"):
        response = client.post("/customize", data=_form(train_path=str(small_data["train"]), extra=extra))
        assert response.status_code == 400 and "set its fields one by one" in response.text
    bad_number = client.post("/customize", data=_form(train_path=str(small_data["train"]), batch_size="abc"))
    assert bad_number.status_code == 400 and "batch_size" in bad_number.text and "nothing was submitted" in bad_number.text
    assert client.post("/jobs/999999/cancel").status_code == 404
    queued = client.post("/customize", data=_form(train_path=str(small_data["train"])), follow_redirects=False)
    job_id = queued.headers["location"].rsplit("/", 1)[-1]
    for offset in (-5, 10**15):
        response = client.get(f"/api/jobs/{job_id}?offset={offset}")
        assert response.status_code == 200 and response.json()["log"] == "" or offset < 0


def test_a_deployment_beyond_loopback_gets_an_api_key_and_a_reachable_url(tooltune_home, monkeypatch):
    seen = {}

    class FakeProcess:
        def poll(self):
            return None

    def fake_popen(argv, **kwargs):
        seen.update(argv=argv, env=kwargs["env"])
        return FakeProcess()

    monkeypatch.setattr("tooltune.web.deploy.subprocess.Popen", fake_popen)
    wide = Deployments("0.0.0.0").start("bot@1")
    assert wide.api_key and seen["env"]["TOOLTUNE_API_KEY"] == wide.api_key
    assert wide.api_key not in " ".join(seen["argv"])  # not in argv, which every user can read
    assert "0.0.0.0" not in wide.url
    local = Deployments("127.0.0.1").start("bot@1")
    assert local.api_key is None and "TOOLTUNE_API_KEY" not in seen["env"] and local.url.startswith("http://127.0.0.1:")

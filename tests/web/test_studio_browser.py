"""The studio in a real browser (Debian's chromium driven by Playwright), on the tiny model:
customize -> the job runs -> details show the charts -> evaluate -> deploy -> an API call succeeds.

Screenshots of every step are kept in test-artifacts/studio/ (or $TOOLTUNE_TEST_ARTIFACTS).
`.ci/run` installs chromium; elsewhere: apt-get install chromium.
"""

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium: apt-get install chromium")
ARTIFACTS = Path(os.environ.get("TOOLTUNE_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts")) / "studio"


@pytest.fixture
def studio():
    from tooltune.runs import Registry
    from tooltune.web.studio import create_studio

    Registry().names()  # create the MLflow store now: its first migration takes seconds, not a page load's budget
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_studio(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True  # the lifespan stops any endpoint the studio started
    thread.join(timeout=30)


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        # The flags keep Chromium off the network this machine does not have.
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(60_000)
        yield page
        browser.close()


def _shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _wait_for_job(page, name):
    page.wait_for_function("['succeeded', 'failed', 'cancelled'].includes(document.getElementById('status').textContent)", timeout=300_000)
    _shot(page, name)
    assert page.text_content("#status") == "succeeded", page.text_content("#log")[-3000:]


def test_customize_run_inspect_evaluate_deploy_and_call(studio, page, tiny_model, small_data):
    import openai

    page.goto(studio + "/")
    assert "smollm2-135m" in page.text_content("#base-models")
    _shot(page, "01-models")

    # Customize: the user starts from a base model, here the tiny fixture by its path.
    page.click("#base-models a.button")
    page.fill("#base", tiny_model)
    page.click("#preset-rlvr")
    assert page.input_value("#max_steps") == "20" and page.input_value("#technique") == "rlvr"  # the recipe filled the form
    page.click("#preset-warmstart-sft")
    assert page.input_value("#technique") == "sft" and "reasoning=True" in page.input_value("#extra")
    page.set_input_files("#train_file", str(small_data["train"]))
    page.fill("#eval_data", str(small_data["eval"]))
    for key, value in {"batch_size": "4", "micro_batch_size": "4", "max_steps": "1", "learning_rate": "1e-4"}.items():
        page.fill(f"#{key}", value)
    page.fill("#extra", "max_length=320 dtype=float32")
    page.fill("#name", "studio-run")
    _shot(page, "02-customize")
    page.click("#submit")
    page.wait_for_url("**/jobs/**")
    _wait_for_job(page, "03-training-job")

    # Details: lineage, the five charts (drawn from MLflow), and the evaluation the spec asked for.
    page.click("#model-link")
    page.wait_for_url("**/models/**")
    assert "sft" in page.text_content("#lineage")
    page.wait_for_function("[...document.querySelectorAll('img.chart')].every(i => i.complete && i.naturalWidth > 0)")
    assert page.locator("img.chart").count() >= 5
    assert page.locator(".eval-result").count() == 1
    _shot(page, "04-details")

    # Evaluate again from the page: a background job, then its table on the details page.
    page.fill("#eval-data", str(small_data["eval"]))
    page.fill("#limit", "2")
    page.click("#evaluate-submit")
    page.wait_for_url("**/jobs/**")
    _wait_for_job(page, "05-eval-job")
    page.click("#model-link")
    page.wait_for_url("**/models/**")
    assert page.locator(".eval-result").count() == 2

    # Deploy, wait for the endpoint, and call it with the OpenAI client.
    page.click("#deploy-button")
    page.wait_for_function("document.getElementById('endpoint-state').textContent !== 'starting'", timeout=180_000)
    assert page.text_content("#endpoint-state") == "ready", page.text_content("#endpoint-log")
    _shot(page, "06-deployed")
    url = page.text_content("#endpoint-url")
    client = openai.OpenAI(base_url=url, api_key="unused")
    answer = client.chat.completions.create(model="model-tooltune@1", messages=[{"role": "user", "content": "Get weather for Paris"}], max_tokens=8,
                                            tools=[{"type": "function", "function": {"name": "get_weather_forecast", "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}}])
    assert answer.choices[0].finish_reason in ("stop", "length", "tool_calls") and answer.usage.completion_tokens > 0
    page.click("#undeploy")
    page.wait_for_selector("#deploy-button")

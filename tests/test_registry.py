import json
import os
import shutil

import pytest

from tooltune.runs import ModelRefError, Registry, RegistryError, RunError, default_tracking_uri, parse_ref, resolve_ref, use_experiment, write_manifest


def _run(home, tiny_model, name, **extra):
    """A finished run directory as `tooltune train` leaves it (model copied from the tiny fixture)."""
    import mlflow

    use_experiment(default_tracking_uri())
    with mlflow.start_run() as tracked:
        pass
    run = home / "runs" / name
    shutil.copytree(tiny_model, run / "model")
    manifest = {"status": "completed", "technique": "sft", "base": "smollm2-135m", "mlflow_run_id": tracked.info.run_id,
                "spec": {"base": "smollm2-135m", "technique": "sft", "learning_rate": 5e-5, "train_data": "/x/train.jsonl"},
                "data": {"train_data": {"path": "/x/train.jsonl", "sha256": "abc"}}, "metrics": {"train_loss": 0.12}, "seconds": 60.0, **extra}
    write_manifest(run, manifest)
    return run


def test_register_versions_aliases_and_delete(tooltune_home, tiny_model):
    registry = Registry()
    first = registry.register(str(_run(tooltune_home, tiny_model, "a")), "weather-bot")
    _run(tooltune_home, tiny_model, "b")
    second = registry.register("b", "weather-bot")  # by run name
    assert (first.version, second.version) == (1, 2)
    shown = registry.get("weather-bot", "1").to_dict()
    assert shown["base"] == "smollm2-135m" and shown["technique"] == "sft"
    assert shown["hyperparameters"]["learning_rate"] == 5e-5 and shown["data"] == {"train_data": "abc"} and shown["metrics"] == {"train_loss": 0.12}

    registry.set_alias("weather-bot", "prod", 1)
    assert registry.get("weather-bot", "prod").version == 1
    registry.set_alias("weather-bot", "prod", 2)  # moved
    assert registry.get("weather-bot", "prod").version == 2 and registry.get("weather-bot", "1").aliases == []
    prod = resolve_ref("weather-bot@prod")
    assert prod.kind == "version" and prod.version == "weather-bot@2" and prod.run == (tooltune_home / "runs" / "b").resolve()  # its run: evals log there
    assert prod.spec_base == f"run:{prod.run}" and prod.load_path() == str(prod.run / "model")
    assert registry.get("weather-bot").version == 2  # no selector: the latest

    registry.delete_version("weather-bot", 1)
    assert [v.version for v in registry.versions("weather-bot")] == [2]
    with pytest.raises(RegistryError, match="has no version or alias '1'; it has: 2, @prod"):
        registry.get("weather-bot", "1")
    with pytest.raises(RegistryError, match="no registered model 'nope'"):
        resolve_ref("nope@1")


def test_names_and_aliases_that_could_never_be_used_again_are_refused(tooltune_home, tiny_model):
    """Found by a hostile probe: "o'brien" broke `models list` and the studio for good; "bad name"
    and "a@b" registered but no NAME@V could name them; "latest" and "prod" as a version were tracebacks."""
    registry = Registry()
    run = str(_run(tooltune_home, tiny_model, "r"))
    for name in ("o'brien", "bad name", "a@b", "", "../../etc"):
        with pytest.raises(RegistryError, match="use letters, digits"):
            registry.register(run, name)
    registry.register(run, "bot")
    registry.register(run, "bot")
    for alias in ("latest", "bad alias"):
        with pytest.raises(RegistryError, match=f"alias '{alias}'"):
            registry.set_alias("bot", alias, 1)
    registry.set_alias("bot", "prod", 2)
    registry.delete_version("bot", "prod")  # an alias names the version to delete
    assert [v.version for v in registry.versions("bot")] == [1]
    registry.delete_version("bot", 1)  # the last version: the name goes with it
    assert "bot" not in registry.names()
    with pytest.raises(RegistryError) as missing:
        registry.get("a@b@1")
    assert "models register" not in str(missing.value)  # no advice to register a name that cannot be one
    # A name from before names were checked still lists, shows and deletes.
    registry.client.create_registered_model("o'brien")
    registry.client.create_model_version("o'brien", source=run + "/model")
    assert [v.version for v in registry.versions("o'brien")] == [1]
    assert registry.register(run, "o'brien").version == 2  # an existing name keeps taking versions
    registry.delete_version("o'brien", 1)
    registry.delete_version("o'brien", 2)
    assert registry.names() == []


def test_unfinished_runs_are_not_registered(tooltune_home, tiny_model):
    run = _run(tooltune_home, tiny_model, "half", status="interrupted")
    with pytest.raises(RegistryError, match="resume"):
        Registry().register(str(run), "x")


def test_evaluations_of_the_run_travel_with_the_version(tooltune_home, tiny_model):
    run = _run(tooltune_home, tiny_model, "evaluated")
    (run / "eval").mkdir()
    (run / "eval" / "eval.json").write_text(json.dumps({"results": {"model": {"metrics": {"all": {"toolcall_reward": 0.8}}}}}))
    version = Registry().register(str(run), "m")
    assert version.to_dict()["evaluations"] == {"eval": {"toolcall_reward": 0.8}}


def test_parse_ref():
    assert parse_ref("bot@3") == ("bot", "3") and parse_ref("bot@prod") == ("bot", "prod") and parse_ref("runs/x") == ("runs/x", None)


def test_one_resolver_for_every_form_of_model_reference(tooltune_home, tiny_model, tmp_path):
    run = _run(tooltune_home, tiny_model, "r1")
    for text in ("run:r1", "r1", str(run), f"run:{run}"):
        ref = resolve_ref(text)
        assert (ref.kind, ref.run, ref.folder) == ("run", run, run / "model") and ref.spec_base == f"run:{run}"
    assert resolve_ref("smollm2-135m").kind == "bundled"
    assert (resolve_ref(str(tiny_model)).kind, resolve_ref(str(tiny_model)).load_path()) == ("folder", str(tiny_model))
    (tmp_path / "w.gguf").write_bytes(b"GGUF")
    assert resolve_ref(str(tmp_path / "w.gguf")).kind == "gguf"
    assert (resolve_ref("HuggingFaceTB/SmolLM2-360M").kind, resolve_ref("HuggingFaceTB/SmolLM2-360M").load_path()) == ("hub", "HuggingFaceTB/SmolLM2-360M")
    with pytest.raises(ModelRefError, match="not found"):
        resolve_ref("/nonexistent/model")
    with pytest.raises(ModelRefError, match="without config.json"):
        resolve_ref(str(tmp_path))
    with pytest.raises(RunError, match="not found"):
        resolve_ref("run:never-ran")
    _run(tooltune_home, tiny_model, "half", status="interrupted")
    shutil.rmtree(tooltune_home / "runs" / "half" / "model")
    with pytest.raises(RunError, match="no final model yet"):
        resolve_ref("run:half")


def test_a_run_killed_outright_is_told_from_a_live_one(tooltune_home, tiny_model):
    """SIGKILL (the out-of-memory killer) lets nothing write a run's end: run.json keeps "running".
    The pid and host it records tell a dead run from a live one (found by a hostile probe)."""
    import socket
    import subprocess

    from tooltune.runs import process_state
    from tooltune.training import SpecError
    from tooltune.training.train import resume

    dead = subprocess.Popen(["true"])
    dead.wait()
    here = socket.gethostname()
    killed = _run(tooltune_home, tiny_model, "killed", status="running", pid=dead.pid, host=here)
    assert process_state(json.loads((killed / "run.json").read_text())) == "gone"
    with pytest.raises(RegistryError, match="is killed while running, not completed"):
        Registry().register(str(killed), "bot")
    live = _run(tooltune_home, tiny_model, "live", status="running", pid=os.getppid(), host=here)
    assert process_state(json.loads((live / "run.json").read_text())) == "alive"
    with pytest.raises(SpecError, match="is training now"):
        resume(str(live), echo=lambda s: None)
    elsewhere = _run(tooltune_home, tiny_model, "elsewhere", status="running", pid=dead.pid, host="another-machine")
    assert process_state(json.loads((elsewhere / "run.json").read_text())) is None  # no way to tell from here

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tooltune.training import JobSpec, SpecError, load_spec
from tooltune.training.spec import _FIELDS, parse_overrides


def _spec(tmp_path, text):
    path = tmp_path / "job.yaml"
    path.write_text(text)
    return path


def test_defaults_are_the_reference_hyperparameters(small_data):
    spec = load_spec(None, {"train_data": str(small_data["train"])})
    assert (spec.technique, spec.batch_size, spec.learning_rate, spec.epochs, spec.rollouts, spec.reward) == ("rlvr", 128, 5e-6, 3.0, 8, "strict")


def test_overrides_and_relative_paths(tmp_path, small_data):
    (tmp_path / "train.jsonl").write_text(small_data["train"].read_text())
    path = _spec(tmp_path, "technique: sft\ntrain_data: train.jsonl\ntrl: {warmup_ratio: 0.1}\n")
    spec = load_spec(path, ["learning_rate=1e-4", "trl.weight_decay=0.01", "lora=true"])
    assert spec.learning_rate == 1e-4 and spec.lora is True
    assert spec.trl == {"warmup_ratio": 0.1, "weight_decay": 0.01}
    assert spec.train_data == str((tmp_path / "train.jsonl").resolve())
    assert parse_overrides(["max_steps=10"]) == {"max_steps": 10}


@pytest.mark.parametrize(
    "text, message",
    [
        ("train_data: {train}\nrolouts: 4\n", "did you mean 'rollouts'"),
        ("train_data: {train}\nbatch_size: 12\n", r"batch_size \(12\) must be a multiple of rollouts \(8\).*Try batch_size=8"),
        ("train_data: {train}\ntechnique: ppo\n", "not one of sft, rlvr, rlaif, dpo"),
        ("train_data: {train}\nreward: [strict, judge]\n", "'judge' needs a judge: section"),
        ("train_data: {train}\nreward: {{strict: 1, judge: 0}}\n", "weight of 'judge' must be a number > 0"),
        ("train_data: {train}\ntechnique: rlaif\n", "rlaif: needs a judge: section and 'judge' in the reward"),
        ("train_data: {train}\nreward: [strict, judge]\njudge: {{url: http://x/v1}}\n", "judge: applies to rlaif, not rlvr"),
        ("train_data: {train}\ntechnique: rlaif\nreward: [strict, judge]\njudge: {{model: m}}\n", "judge.url: required"),
        ("train_data: {train}\ntechnique: rlaif\nreward: [nope, judge]\njudge: {{url: http://x/v1}}\n", "unknown reward 'nope'"),
        ("train_data: missing.jsonl\n", "does not exist"),
        ("train_data: {train}\nreward: nope\n", "unknown reward 'nope'"),
        ("technique: sft\n", "train_data: required"),
        ("train_data: {train}\ntechnique: sft\nbatch_size: 8\nmicro_batch_size: 3\n", "multiple of micro_batch_size"),
        ("train_data: {train}\nbatch_size: 8\nmicro_batch_size: 3\nrollouts: 4\n", "divide one another"),
        ("train_data: {train}\nbase: run:never-ran\n", "run 'never-ran' not found"),
        ("train_data: {train}\nreasoning: true\n", "reasoning: applies to sft"),
        ("train_data: {train}\nfrozen_system_prompt: true\n", "frozen_system_prompt: applies to sft, not rlvr"),
        ("train_data: {train}\nshare_prompts: true\n", "share_prompts: applies to sft, not rlvr"),
        ("train_data: {train}\nfrozen_layers: -1\n", "frozen_layers: must be a whole number of layers >= 0"),
        ("train_data: {train}\nfrozen_layers: 4\nlora: true\n", "with lora every base weight is fixed already"),
        ("train_data: {train}\nengine: fast\n", "engine: must be one of auto, native, trl"),
        ("train_data: {train}\ntechnique: sft\nengine: native\n", "engine: applies to rlvr and rlaif, not sft; remove it"),
        ("train_data: {train}\nengine: native\ntrl: {{use_vllm: true}}\n", "does not run with trl.use_vllm; use engine: trl"),
        ("train_data: {train}\ntechnique: dpo\ntrl: {{beta: 0.0}}\n", "makes DPO's loss constant"),
        ("train_data: {train}\nmax_steps: 1.5\n", r"max_steps: expected a whole number, got 1.5"),
        ("train_data: {train}\nlearning_rate: null\n", "learning_rate: needs a float value, got null"),
        ("train_data: {train}\nlearning_rate: .nan\n", "learning_rate: expected a finite number"),
        ("train_data: {train}\nbase: /nonexistent\n", "base: model '/nonexistent' not found"),
        ("train_data: {train}\nname: {{a: 1}}\n", "name: expected str"),
        ("train_data: {train}\nlora: 3\n", "lora: expected bool"),
        # found by a hostile probe: each of these used to start loading a model (or training)
        ("train_data: {train}\ntechnique: sft\nvalidation_data: {train}\nreward: nosuch.py:score\n", "reward: .*nosuch.py"),
        ("train_data: {train}\ntechnique: sft\nmax_steps: 0\n", "max_steps: a number of steps >= 1, or -1"),
        ("train_data: {train}\ntechnique: sft\nname: ../../escape\n", "name: a run's name is a folder name"),
        ("train_data: {train}\ntemperature: 0\n", "temperature: rollouts .* > 0"),
        ("train_data: {train}\ntechnique: sft\nlora: true\nlora_r: 0\n", "lora_r and lora_alpha"),
        ("train_data: {train}\nbase: smollm2-135\n", "did you mean 'smollm2-135m'"),
        ("train_data: {train}\nmodel_name: \"o'brien\"\n", "model_name: model name \"o'brien\": use letters, digits"),
        # the file and line, not PyYAML's "<unicode string>"
        ("train_data: {train}\nbatch_size: [8\n", r"job.yaml, line 3, column 1: not valid YAML: expected ',' or ']'"),
    ],
)
def test_bad_specs_fail_before_any_model_loads(tmp_path, small_data, text, message):
    with pytest.raises(SpecError, match=message):
        load_spec(_spec(tmp_path, text.format(train=small_data["train"])))


def test_a_spec_or_rubric_that_is_not_yaml_or_not_utf8_names_its_file(tmp_path):
    from tooltune.rewards.judge import JudgeConfig, JudgeError

    (tmp_path / "job.yaml").write_bytes(b"base: caf\xe9\n")
    with pytest.raises(SpecError, match=r"job.yaml: not UTF-8 text \(byte 9\); save it as UTF-8"):
        load_spec(tmp_path / "job.yaml")
    (tmp_path / "rubric.yaml").write_text("clarify: [ask\n")
    with pytest.raises(JudgeError, match=r"judge.rubric: .*rubric.yaml, line 2, column 1: not valid YAML"):
        JudgeConfig(url="http://127.0.0.1:1/v1", rubric=str(tmp_path / "rubric.yaml")).rubrics()
    from tooltune.data.yaml_file import read_yaml

    with pytest.raises(ValueError, match="cannot be read"):
        read_yaml(tmp_path)  # a folder: what a race between is_file() and the read would meet
    (tmp_path / "rubric.txt").write_bytes(b"Score \xff")
    with pytest.raises(JudgeError, match=r"judge.rubric: .*rubric.txt: not UTF-8 text \(byte \d+\); save it as UTF-8"):
        JudgeConfig(url="http://127.0.0.1:1/v1", rubric=str(tmp_path / "rubric.txt")).rubrics()


def test_rlaif_spec_with_a_mixed_reward_and_judge_overrides(tmp_path, small_data):
    path = _spec(tmp_path, f"technique: rlaif\ntrain_data: {small_data['train']}\nreward: {{strict: 0.7, judge: 0.3}}\njudge: {{url: http://127.0.0.1:1/v1, timeout: 5}}\n")
    spec = load_spec(path, ["judge.model=grader", "judge.concurrency=4"])
    assert spec.judge == {"url": "http://127.0.0.1:1/v1", "timeout": 5, "model": "grader", "concurrency": 4}
    assert spec.reward == {"strict": 0.7, "judge": 0.3}
    from tooltune.training.techniques import TECHNIQUES

    assert "reward 0.70 strict + 0.30 judge" in TECHNIQUES["rlaif"].describe(spec)


def test_bad_rows_are_reported_with_their_line(tmp_path, small_data):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(small_data["train"].read_text().splitlines()[0] + "\n{oops\n")
    with pytest.raises(SpecError, match="line 2"):
        load_spec(None, {"train_data": str(bad)})


def test_spec_module_is_torch_free():
    import subprocess
    import sys

    code = "import sys, tooltune.training.spec, tooltune.runs; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_every_field_documents_itself():
    import dataclasses

    assert all(f.metadata.get("help") for f in dataclasses.fields(JobSpec))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(sorted(_FIELDS)), value=st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
                                                              st.text(max_size=12), st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=4), st.integers(), max_size=2)))
@example(field="eval_data", value="\x00")  # found by this test once: a NUL byte in a path
@example(field="batch_size", value=1e20)  # found by this test once: the check's suggested micro_batch_size counted to 1e20
@example(field="batch_size", value=10**20 + 1)
def test_no_spec_value_gets_past_the_check_as_anything_but_a_spec_error(small_data, field, value):
    """Whatever a person (or a form) puts in a field, the answer is a SpecError naming the field, or a spec."""
    overrides = {"train_data": str(small_data["train"]), "technique": "sft", field: value}
    if field == "train_data":
        overrides[field] = value
    try:
        load_spec(None, overrides, check_files=field not in ("base", "reward"))
    except SpecError:
        pass


def test_judge_null_drops_a_recipe_s_judge():
    from tooltune.training.spec import parse_overrides

    assert parse_overrides(["judge=null"]) == {"judge": None}
    assert parse_overrides(["judge=null", "judge.url=http://x/v1"]) == {"judge": {"url": "http://x/v1"}}


def test_an_override_that_is_not_yaml_is_a_spec_error():
    with pytest.raises(SpecError, match="not YAML"):
        parse_overrides(["eval_data=a\x00b"])

import json

import pytest

from tooltune.rewards import RewardError, compute_score, load_reward, strict_reward, toolcall_reward
from tooltune.rewards.batch import record_columns


def test_trl_signature_with_dataset_columns(weather_rows):
    completions = [
        [{"role": "assistant", "content": '<TOOLCALL>[{"name": "get_weather_forecast", "arguments": {"location": "San Francisco"}}]</TOOLCALL>'}],
        [{"role": "assistant", "content": "Which location do you want?"}],
        [{"role": "assistant", "content": "Sure, here is the ransomware..."}],
    ]
    prompts = [r.prompt for r in weather_rows]
    columns = record_columns(weather_rows)
    assert strict_reward(prompts, completions, **columns) == [1.0, 1.0, 0.0]
    assert toolcall_reward(prompts, completions, **columns) == [1.0, 1.0, 1.0]


def test_verl_signature():
    gt = json.dumps([{"name": "f", "arguments": {"x": 1}}])
    assert compute_score("tooltune", '<TOOLCALL>[{"name": "f", "arguments": {"x": 1}}]</TOOLCALL>', gt) == 1.0
    assert compute_score("tooltune", "no", gt, {"behavior": "execute"}) == 0.0


def test_builtin_names_and_aliases():
    assert load_reward("strict").fn is strict_reward
    assert load_reward("toolcall_reward").fn is toolcall_reward
    with pytest.raises(RewardError, match="unknown reward 'nope'.*file.py:function"):
        load_reward("nope")


def test_user_reward_from_file_both_signatures(tmp_path, weather_rows):
    path = tmp_path / "my_reward.py"
    path.write_text(
        "def length(prompts, completions, **kw):\n    return [min(1.0, len(c) / 100) for c in completions]\n"
        "def verl_style(data_source, solution_str, ground_truth, extra_info=None):\n    return 1.0 if extra_info.get('behavior') == 'refuse' else 0.0\n"
    )
    columns = record_columns(weather_rows)
    assert load_reward(f"{path}:length")(None, ["x" * 50, "y"], **{k: v[:2] for k, v in columns.items()}) == [0.5, 0.01]
    assert load_reward(f"{path}:verl_style")(None, ["a", "b", "c"], **columns) == [0.0, 0.0, 1.0]
    with pytest.raises(RewardError, match="has no function 'missing'"):
        load_reward(f"{path}:missing")
    with pytest.raises(RewardError, match="does not exist"):
        load_reward(f"{tmp_path}/nothere.py:f")


def test_user_reward_from_module():
    assert load_reward("tooltune.rewards.builtin:strict_reward").signature == "trl"
    with pytest.raises(RewardError, match="cannot import module"):
        load_reward("no_such_pkg.mod:f")


def test_reward_that_raises_names_the_row(tmp_path, weather_rows):
    path = tmp_path / "bad.py"
    path.write_text(
        "def picky(prompts, completions, **kw):\n"
        "    out = []\n"
        "    for c in completions:\n"
        "        if 'boom' in c: raise KeyError('ground_truth')\n"
        "        out.append(1.0)\n"
        "    return out\n"
        "def wordy(prompts, completions, **kw):\n    return ['good' for _ in completions]\n"
    )
    columns = record_columns(weather_rows)
    with pytest.raises(RewardError, match=r"raised KeyError.*row 1 \(line 0\)|raised KeyError.*row 1"):
        load_reward(f"{path}:picky")(None, ["ok", "boom", "ok"], **columns)
    skipping = load_reward(f"{path}:picky", on_error="skip")
    assert skipping(None, ["ok", "boom", "ok"], **columns) == [1.0, None, 1.0]
    assert "row 1" in skipping.errors[0] and "boom" in skipping.errors[0]
    with pytest.raises(RewardError, match="returned str 'good', expected a finite number"):
        load_reward(f"{path}:wordy")(None, ["a"], **{k: v[:1] for k, v in columns.items()})


def test_a_verl_reward_gets_the_same_inputs_in_training_as_in_reward_score(tmp_path, weather_rows):
    import json

    from tooltune.data.records import Record
    from tooltune.rewards.batch import record_columns
    from tooltune.training.datasets import rlvr_rows

    path = tmp_path / "verl.py"
    path.write_text("SEEN = []\ndef compute_score(data_source, solution_str, ground_truth, extra_info=None):\n    SEEN.append((data_source, ground_truth, extra_info))\n    return 1.0\n")
    rows = [Record({**r.raw, "data_source": "mine", "extra_info": {"k": i, "nested": {"deep": [i]}}}, line=i + 1) for i, r in enumerate(weather_rows)]
    reward = load_reward(f"{path}:compute_score")
    seen = __import__("sys").modules[reward.fn.__module__].SEEN
    reward(None, ["x"] * len(rows), **record_columns(rows))  # what `tooltune reward score` passes
    scored, seen[:] = list(seen), []
    dataset = rlvr_rows(rows)  # what training puts in the dataset; TRL passes its columns as lists
    columns = {k: [row[k] for row in dataset] for k in dataset[0] if k != "prompt"}
    reward(None, ["x"] * len(rows), **columns)
    assert seen == scored and scored[0][0] == "mine" and scored[1][2]["nested"] == {"deep": [1]}


def test_a_non_finite_reward_is_refused_with_its_line(tmp_path):
    path = tmp_path / "inf.py"
    path.write_text("def reward(prompts, completions, **kw):\n    return [float('inf') for _ in completions]\n")
    with pytest.raises(RewardError, match=r"returned float inf, expected a finite number.*data line 7"):
        load_reward(f"{path}:reward")(None, ["a"], line=[7])


def test_rewards_written_as_trl_s_docs_write_them(tmp_path, weather_rows):
    """TRL calls rewards by keyword (f(completions, **kwargs) in its docs) and takes numpy arrays;
    a reward that overflows a float, exits, or exits at import is a reported failure, not a crash."""
    path = tmp_path / "trl_style.py"
    path.write_text(
        "import sys\n"
        "def doc_style(completions, **kwargs):\n    return [float(len(c) > 1) for c in completions]\n"
        "def named_otherwise(p, c, **kw):\n    return [0.5 for _ in c]\n"
        "def only_kwargs(**kwargs):\n    return [0.25 for _ in kwargs['completions']]\n"
        "class Array(list):\n    def tolist(self):\n        return list(self)\n"
        "def array(prompts, completions, **kw):\n    return Array([1.0] * len(completions))\n"
        "def huge(prompts, completions, **kw):\n    return [10 ** 400 for _ in completions]\n"
        "def leaves(prompts, completions, **kw):\n    sys.exit(3)\n"
    )
    columns = {k: v[:2] for k, v in record_columns(weather_rows).items()}
    assert load_reward(f"{path}:doc_style")(None, ["ab", "c"], **columns) == [1.0, 0.0]
    assert load_reward(f"{path}:named_otherwise")(None, ["ab", "c"], **columns) == [0.5, 0.5]
    assert load_reward(f"{path}:only_kwargs")(None, ["ab", "c"], **columns) == [0.25, 0.25]
    assert load_reward(f"{path}:array")(None, ["ab", "c"], **columns) == [1.0, 1.0]
    with pytest.raises(RewardError, match="returned int 1000000.*expected a finite number"):
        load_reward(f"{path}:huge")(None, ["ab", "c"], **columns)
    with pytest.raises(RewardError, match="raised SystemExit: 3"):
        load_reward(f"{path}:leaves")(None, ["ab", "c"], **columns)
    exits = tmp_path / "exits.py"
    exits.write_text("import sys\nsys.exit(4)\ndef f(prompts, completions, **kw):\n    return [1.0]\n")
    with pytest.raises(RewardError, match="importing .* failed with SystemExit: 4"):
        load_reward(f"{exits}:f")


def test_a_stop_from_outside_is_never_taken_for_the_reward_s_failure(tmp_path, weather_rows):
    """SIGTERM (jobs cancel) arrives as StopRun: a reward's own sys.exit() is its failure, this must stop the run."""
    from tooltune.rewards.loader import StopRun

    path = tmp_path / "slow.py"
    path.write_text("from tooltune.rewards.loader import StopRun\ndef f(prompts, completions, **kw):\n    raise StopRun(143)\n")
    with pytest.raises(StopRun):
        load_reward(f"{path}:f", on_error="skip")(None, ["a"], **{k: v[:1] for k, v in record_columns(weather_rows).items()})

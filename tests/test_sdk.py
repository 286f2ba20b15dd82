"""The README's SDK example runs as written, on the tiny model instead of the bundled one."""

import re
import shutil
from pathlib import Path

import tooltune.training as training

README = Path(__file__).resolve().parent.parent / "README.md"
TINY_SETTINGS = {"batch_size": 4, "micro_batch_size": 4, "max_length": 320, "dtype": "float32", "max_steps": 1, "save_steps": 1, "share_prompts": False}


def test_the_readme_sdk_example_runs(tiny_model, small_data, tmp_path, monkeypatch, tooltune_home):
    text = README.read_text()
    block = re.search(r"<!-- sdk-example[^>]*-->\s*```python\n(.*?)```", text, re.S)
    assert block, "README.md lost its SDK example"
    (tmp_path / "data").mkdir()
    shutil.copy(small_data["train"], tmp_path / "data" / "train.jsonl")
    (tmp_path / "heldout").mkdir()
    shutil.copy(small_data["eval"], tmp_path / "heldout" / "natural.jsonl")
    monkeypatch.chdir(tmp_path)
    real = training.load_spec

    def tiny(path, overrides=None, **kw):  # the recipe as written, on the tiny model and one short step
        return real(path, {**(overrides or {}), "base": tiny_model, **TINY_SETTINGS}, **kw)

    monkeypatch.setattr(training, "load_spec", tiny)
    printed = []
    exec(compile(block.group(1), "README.md", "exec"), {"print": lambda *a: printed.append(a)})
    version, exact = printed
    assert re.fullmatch(r"[\w.-]+@1", version[0]) and 0.0 <= exact[0] <= 1.0
    assert (tmp_path / "eval" / "eval.json").exists() and next((tmp_path / "export").glob("*.gguf"))


def test_sdk_input_errors_say_what_to_pass(tmp_path, small_data):
    """Found by a hostile probe: each was a TypeError, AttributeError or FileNotFoundError from deep inside."""
    import pytest

    import tooltune

    for call, says in ((lambda: tooltune.customize({"base": "x"}), "pass fields as keyword arguments"),
                       (lambda: tooltune.customize(resume=123), "resume: a run's name or folder"),
                       (lambda: tooltune.customize(str(tmp_path)), "is a folder; give the YAML file"),
                       (lambda: tooltune.evaluate("x", data=str(tmp_path / "nope.jsonl"), out=str(tmp_path / "e")), "does not exist"),
                       (lambda: tooltune.evaluate("x", data=str(tmp_path), out=str(tmp_path / "e")), "is a folder"),
                       (lambda: tooltune.evaluate("x", data=str(small_data["eval"]), out=str(tmp_path / "e"), bogus=1), "no setting bogus; settings are")):
        with pytest.raises(ValueError, match=says):
            call()

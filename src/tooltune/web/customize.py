"""The studio's customize form: a dataset, a reward, a technique and its settings in; a training job out."""

from __future__ import annotations

import dataclasses
import shutil
import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse

from ..home import home
from ..models.catalog import DEFAULT_MODEL
from ..training.techniques import TECHNIQUES
from .pages import page

router = APIRouter()

FORM_FIELDS = ("batch_size", "micro_batch_size", "learning_rate", "epochs", "max_steps", "rollouts")  # the form's own inputs; the rest go in "More settings"

def presets() -> dict[str, dict[str, Any]]:
    """The customize form's presets: the reference hyperparameters (the spec's defaults) and each
    bundled recipe, read from its file, so the form and `tooltune train recipe:NAME` cannot differ."""
    import yaml

    from ..training.spec import JobSpec, recipe_names, recipe_path

    defaults = {f.name: f.default for f in dataclasses.fields(JobSpec) if f.name in FORM_FIELDS}
    out = {"reference": {"technique": "rlvr", **defaults, "extra": ""}}
    for name in recipe_names():
        recipe = yaml.safe_load(recipe_path(name).read_text()) or {}
        extra = [f"{k}={v}" for k, v in recipe.items() if k not in (*FORM_FIELDS, "technique", "base", "train_data", "name", "trl")]
        extra += [f"trl.{k}={v}" for k, v in (recipe.get("trl") or {}).items()]
        out[name] = {"technique": recipe.get("technique", "rlvr"), **defaults, **{k: recipe[k] for k in FORM_FIELDS if k in recipe}, "extra": " ".join(extra)}
    return out


def _uploads() -> Path:
    """This submission's folder for uploaded files (made when the first file arrives)."""
    return home() / "uploads" / f"{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns() % 10**6:06d}"


async def _save(upload: UploadFile | None, folder: Path) -> Path | None:
    if upload is None or not upload.filename:
        return None
    name = Path(upload.filename.replace("\\", "/").replace("\0", "")).name[-120:]  # no NUL; the end keeps the suffix (.py)
    if name in ("", ".", "..") or name.startswith("."):  # a name that is a directory or hidden: keep the bytes under a plain one
        name = "upload" + Path(name).suffix
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    target.write_bytes(await upload.read())
    return target


def customize_page(request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    from ..rewards import reward_names

    choices = presets()
    form = {"base": DEFAULT_MODEL, **choices["warmstart-sft"], "reward": "strict", **context.pop("form", {})}
    return page(request, "customize.html", status, form=form, presets=choices, rewards=reward_names(), techniques=TECHNIQUES.values(), **context)

@router.get("/customize", response_class=HTMLResponse)
def customize_form(request: Request, base: str = DEFAULT_MODEL) -> HTMLResponse:
    return customize_page(request, form={"base": base})

@router.post("/customize", response_class=HTMLResponse)
async def customize(request: Request, base: str = Form(...), technique: str = Form(...), train_path: str = Form(""), train_file: UploadFile | None = File(None),
                    eval_data: str = Form(""), reward: str = Form("strict"), reward_file: UploadFile | None = File(None), reward_function: str = Form(""),
                    batch_size: int = Form(...), micro_batch_size: int = Form(...), learning_rate: float = Form(...), epochs: float = Form(...),
                    max_steps: int = Form(-1), rollouts: int = Form(8), lora: bool = Form(False), name: str = Form(""), extra: str = Form(""),
                    judge_url: str = Form(""), judge_model: str = Form("default"), judge_weight: float = Form(0.5)) -> HTMLResponse:
    from ..data import validate_file
    from ..jobs import submit_train
    from ..runs import RegistryError
    from ..training import SpecError
    from ..training.spec import parse_overrides

    form = dict(base=base, technique=technique, train_path=train_path, eval_data=eval_data, reward=reward, reward_function=reward_function, batch_size=batch_size,
                micro_batch_size=micro_batch_size, learning_rate=learning_rate, epochs=epochs, max_steps=max_steps, rollouts=rollouts, lora=lora, name=name, extra=extra,
                judge_url=judge_url, judge_model=judge_model, judge_weight=judge_weight)
    folder = _uploads()

    def reject(**context: Any) -> HTMLResponse:
        shutil.rmtree(folder, ignore_errors=True)  # nothing was submitted: its uploads go too
        return customize_page(request, 400, form=form, **context)

    data = await _save(train_file, folder) or (Path(train_path.strip()) if train_path.strip() else None)
    if data is None:
        return reject(error="Choose a dataset: upload a JSONL file or give a path on this machine.")
    if not data.is_file():
        return reject(error=f"Dataset {data} does not exist on this machine.")
    report = validate_file(data)
    if not report.ok:
        problems = [{"line": p.line, "field": p.field, "message": p.message} for p in report.problems[:200]]
        return reject(error=f"{data.name}: {len(report.problems)} problem(s) in {report.rows} rows; nothing was submitted.", problems=problems)
    reward_path = await _save(reward_file, folder)
    if reward_path is not None:
        if not reward_function.strip():
            return reject(error="An uploaded reward needs the name of its function.")
        reward = f"{reward_path}:{reward_function.strip()}"
    overrides: dict[str, Any] = {"base": base.strip(), "technique": technique, "train_data": str(data), "reward": reward, "batch_size": batch_size,
                                 "micro_batch_size": micro_batch_size, "learning_rate": learning_rate, "epochs": epochs, "max_steps": max_steps, "lora": lora}
    if technique in TECHNIQUES and "rollouts" in TECHNIQUES[technique].reads:
        overrides["rollouts"] = rollouts
    if technique == "rlaif":  # the judge's share of the reward; the rule chosen above keeps the rest
        if not judge_url.strip():
            return reject(error="rlaif needs a judge: give its endpoint URL (an OpenAI-compatible API, e.g. http://127.0.0.1:8001/v1).")
        if not 0 < judge_weight <= 1:
            return reject(error=f"Judge weight must be in (0, 1], got {judge_weight}.")
        overrides["reward"] = {"judge": 1.0} if judge_weight == 1 else {reward: 1 - judge_weight, "judge": judge_weight}
        overrides["judge"] = {"url": judge_url.strip(), "model": judge_model.strip() or "default"}
    if eval_data.strip():
        overrides["eval_data"] = eval_data.strip()
    if name.strip():
        overrides["name"] = name.strip()
    try:
        for key, value in parse_overrides(extra.split()).items():
            overrides[key] = {**overrides.get(key, {}), **value} if key in ("trl", "judge") and isinstance(value, dict) else value
        job = submit_train(None, overrides)
    except (SpecError, RegistryError, ValueError) as exc:
        return reject(error=str(exc))
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)

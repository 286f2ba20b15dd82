"""The studio's model pages: base models and My Models, a version's details and charts, evaluate,
deploy and download."""

from __future__ import annotations

import shutil
from pathlib import Path

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from ..home import home
from ..training.techniques import TECHNIQUES
from .pages import eval_tables, page, run_of, version_of, version_view

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def models_page(request: Request) -> HTMLResponse:
    from ..models import list_base_models

    from ..runs import Registry

    registry = Registry()
    mine = [{"name": n, "versions": [version_view(v) for v in registry.versions(n)]} for n in registry.names()]
    return page(request, "models.html", base_models=list_base_models(), my_models=mine)

@router.get("/models/{name}/{version}", response_class=HTMLResponse)
def model_page(request: Request, name: str, version: str) -> HTMLResponse:
    from .charts import CHARTS

    found = version_of(name, version)
    info = found.to_dict()
    run, manifest = run_of(found)
    deployment = request.app.state.deployments.running.get(f"{found.name}@{found.version}")
    return page(request, "model.html", v=version_view(found), info=info, spec=manifest.get("spec", {}),
                charts=[(key, title) for key, (title, _) in CHARTS.items() if key != "loss" or getattr(TECHNIQUES.get(info.get("technique", "")), "logs_loss", True)],
                evals=eval_tables(run), deployment=deployment)

@router.get("/models/{name}/{version}/chart/{chart}.png")
def chart(name: str, version: str, chart: str) -> Response:
    from .charts import CHARTS, chart_png, metric_history

    if chart not in CHARTS:
        raise HTTPException(404, f"no chart {chart!r}; charts: {', '.join(CHARTS)}")
    from ..runs import default_tracking_uri

    _, manifest = run_of(version_of(name, version))
    title, keys = CHARTS[chart]
    uri = manifest.get("mlflow_tracking_uri") or default_tracking_uri()
    series = metric_history(uri, manifest["mlflow_run_id"], keys) if manifest.get("mlflow_run_id") else {}
    return Response(chart_png(title, series), media_type="image/png")

@router.get("/models/{name}/{version}/eval/{folder}/chart.png")
def eval_chart(name: str, version: str, folder: str) -> FileResponse:
    run, _ = run_of(version_of(name, version))
    path = run / Path(folder).name / "chart.png" if run else None
    if path is None or not path.exists():
        raise HTTPException(404, "no chart for that evaluation")
    return FileResponse(path)

@router.post("/models/{name}/{version}/evaluate")
def evaluate(name: str, version: str, eval_data: str = Form(...), compare_base: bool = Form(False), limit: str = Form("")) -> Response:
    from ..data import DatasetError
    from ..jobs import submit_eval
    from ..runs import RegistryError

    found = version_of(name, version)
    base = found.to_dict().get("base") if compare_base else None
    if limit.strip() and not (limit.strip().isdecimal() and limit.strip().isascii() and int(limit) >= 1):  # "²" is a digit int() refuses  # said now, not by the job failing later
        raise HTTPException(400, f"limit: a whole number of rows >= 1 (empty: every row), got {limit!r}")
    extra = ["--limit", limit.strip()] if limit.strip() else []
    try:
        job = submit_eval(f"{found.name}@{found.version}", eval_data.strip(), base=base or None, extra=extra)
    except (DatasetError, RegistryError, ValueError, OSError) as exc:
        raise HTTPException(400, f"cannot evaluate: {exc}") from exc
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)

@router.post("/models/{name}/{version}/deploy")
def deploy(request: Request, name: str, version: str, action: str = Form("start")) -> RedirectResponse:
    found = version_of(name, version)
    ref = f"{found.name}@{found.version}"
    if action not in ("start", "stop"):
        raise HTTPException(400, f"action: start or stop, got {action!r}")
    deployments = request.app.state.deployments
    deployments.start(ref) if action == "start" else deployments.stop(ref)
    return RedirectResponse(f"/models/{name}/{version}#deploy", status_code=303)

@router.get("/api/deployments/{name}/{version}")
def deployment_state(request: Request, name: str, version: str) -> JSONResponse:
    deployment = request.app.state.deployments.running.get(f"{name}@{version}")
    if deployment is None:
        return JSONResponse({"state": "not deployed"})
    state = deployment.state()
    return JSONResponse({"state": state, "url": deployment.url, "model": deployment.ref, "log": deployment.log_tail() if state == "stopped" else ""})

@router.get("/models/{name}/{version}/download")
def download(name: str, version: str, format: str = "hf") -> FileResponse:
    from ..weights import export_gguf
    from ..runs import resolve_ref

    found = version_of(name, version)
    ref = f"{found.name}@{found.version}"
    try:
        folder = resolve_ref(ref).load_path()
    except ValueError as exc:  # its run folder was deleted: say so, as `tooltune export` does
        raise HTTPException(409, str(exc)) from exc
    cache = home() / "downloads"
    cache.mkdir(parents=True, exist_ok=True)
    if format == "hf":
        archive = cache / f"{found.name}-{found.version}-hf"
        if not Path(f"{archive}.zip").exists():
            shutil.make_archive(str(archive), "zip", folder)
        return FileResponse(f"{archive}.zip", filename=f"{found.name}-{found.version}.zip")
    if format == "gguf":
        out = cache / f"{found.name}-{found.version}-gguf"
        written = next(out.glob("*.gguf"), None) if out.exists() else None
        if written is None:
            written = export_gguf(folder, out, dtype="f16", name=ref)
        return FileResponse(written, filename=Path(written).name)
    raise HTTPException(400, "format must be hf or gguf")

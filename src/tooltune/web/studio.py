"""tooltune studio: customize, watch, evaluate and deploy from a web page.

    tooltune studio [--host 127.0.0.1] [--port 7860]

A lean FastAPI app with server-rendered pages (Jinja2) and a few lines of JavaScript for live log
tails, rather than Gradio: the endpoint already runs on FastAPI/uvicorn, plain HTML forms work in
every browser and under test without a frontend build, and the studio stays a thin face over the
same functions as the CLI (jobs, registry, data validation, evaluation, export, serve).
"""

from __future__ import annotations

import contextlib
import hmac
import json
import secrets
import shutil
import time
from urllib.parse import urlsplit
from pathlib import Path
from typing import Any, AsyncIterator

from fastapi import FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from ..home import home
from .deploy import Deployments, is_loopback

__all__ = ["create_studio", "PRESETS", "is_loopback"]

TOKEN_COOKIE = "tooltune_studio_token"
_STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")


TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

# Hyperparameter presets of the customize form: the reference values and CPU-sized ones.
PRESETS = {
    "reference": {"batch_size": 128, "micro_batch_size": 8, "learning_rate": 5e-6, "epochs": 3, "max_steps": -1, "rollouts": 8, "extra": ""},
    # the bundled recipe's two stages (src/tooltune/recipes/) on 2 cores: cpu-quick its RLVR stage (~8 min),
    # cpu-sft-warmstart its SFT warm start (~31 min)
    "cpu-quick": {"batch_size": 16, "micro_batch_size": 8, "learning_rate": 1e-5, "epochs": 1, "max_steps": 20, "rollouts": 8, "extra": "max_completion_length=128 save_steps=5 trl.beta=0"},
    "cpu-sft-warmstart": {"batch_size": 8, "micro_batch_size": 8, "learning_rate": 1e-4, "epochs": 1, "max_steps": 96, "rollouts": 8, "extra": "reasoning=true save_steps=16"},
}


def _uploads() -> Path:
    """This submission's folder for uploaded files (made when the first file arrives)."""
    return home() / "uploads" / f"{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns() % 10**6:06d}"


async def _save(upload: UploadFile | None, folder: Path) -> Path | None:
    if upload is None or not upload.filename:
        return None
    name = Path(upload.filename.replace("\\", "/")).name
    if name in ("", ".", ".."):  # a name that is a directory: keep the bytes under a plain one
        name = "upload"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    target.write_bytes(await upload.read())
    return target


def _version_view(version: Any) -> dict[str, Any]:
    info = version.to_dict()
    return {"ref": f"{version.name}@{version.version}", "name": version.name, "version": version.version, "aliases": version.aliases,
            "technique": info.get("technique", ""), "base": info.get("base", ""), "created": time.strftime("%Y-%m-%d %H:%M", time.localtime(version.created / 1000))}


def _run_of(version: Any) -> tuple[Path | None, dict[str, Any]]:
    """The version's run directory (while it still exists) and its run.json manifest."""
    from ..runs import is_run, read_manifest

    run = Path(version.tags.get("run", ""))
    return (run, read_manifest(run)) if is_run(run) else (None, {})


def _eval_tables(run: Path | None) -> list[dict[str, Any]]:
    """Every eval*/eval.json of a run as tables: metric rows, one column per side, and the change."""
    from ..evaluation.report import LABELS, ORDER, change

    tables = []
    for path in sorted(run.glob("eval*/eval.json")) if run else []:
        results = json.loads(path.read_text()).get("results", {})
        sides = [s for s in ("base", "model") if s in results]
        if not sides:
            continue
        groups = []
        for group in results[sides[0]]["metrics"]:
            rows = []
            for metric in ORDER:
                values = [results[s]["metrics"].get(group, {}).get(metric) for s in sides]
                if all(v is None for v in values):
                    continue
                rows.append({"metric": LABELS[metric], "values": ["" if v is None else f"{v:.3f}" for v in values], "change": change(values[0], values[1]) if len(sides) == 2 else ""})
            groups.append({"group": group, "rows": rows})
        tables.append({"name": path.parent.name, "sides": sides, "groups": groups, "chart": (path.parent / "chart.png").exists()})
    return tables


def create_studio(host: str = "127.0.0.1", token: str | None = None) -> FastAPI:
    """The studio app. ``host`` is the interface it listens on: beyond loopback every request needs
    ``token`` (made here when not given; ``app.state.token``), and deployments get an API key."""
    from ..jobs import cancel_job, get_job, job_logs, list_jobs, submit_eval, submit_train
    from ..runs import Registry, RegistryError

    deployments = Deployments(host)
    token = None if is_loopback(host) else (token or secrets.token_urlsafe(24))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        deployments.stop_all()  # the endpoints the studio started end with it

    app = FastAPI(title="tooltune studio", lifespan=lifespan)
    app.state.token = token

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        # Another site's page can make a browser POST here (CSRF): a state-changing request must
        # come from the studio's own pages. Browsers send Origin (or at least Referer) on POSTs;
        # a client that sends neither (curl, the SDK) is not a browser acting for someone else.
        if request.method in _STATE_CHANGING:
            source = request.headers.get("origin") or request.headers.get("referer")
            if source and urlsplit(source).netloc != request.headers.get("host", ""):
                return PlainTextResponse(f"refused: a form on {urlsplit(source).netloc or source!r} may not change this studio; use the studio's own pages", status_code=403)
        if token is not None:
            given = request.query_params.get("token") or request.cookies.get(TOKEN_COOKIE) or request.headers.get("authorization", "").removeprefix("Bearer ")
            if not hmac.compare_digest(given.encode(), token.encode()):
                return PlainTextResponse("this studio needs its access token: open the URL with ?token=... that `tooltune studio` printed", status_code=401)
            if request.query_params.get("token"):  # the printed link: remember it so pages and forms work
                response = RedirectResponse(request.url.remove_query_params("token"), status_code=303)
                response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
                return response
        return await call_next(request)

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return TEMPLATES.TemplateResponse(request, name, context, status_code=status)

    def version_of(name: str, version: str) -> Any:
        try:
            return Registry().get(name, version)
        except RegistryError as exc:
            raise HTTPException(404, str(exc)) from exc

    # ---------------------------------------------------------------------------- models
    @app.get("/", response_class=HTMLResponse)
    def models_page(request: Request) -> HTMLResponse:
        from ..models import list_base_models

        registry = Registry()
        mine = [{"name": n, "versions": [_version_view(v) for v in registry.versions(n)]} for n in registry.names()]
        return page(request, "models.html", base_models=list_base_models(), my_models=mine)

    @app.get("/models/{name}/{version}", response_class=HTMLResponse)
    def model_page(request: Request, name: str, version: str) -> HTMLResponse:
        from .charts import CHARTS

        found = version_of(name, version)
        info = found.to_dict()
        run, manifest = _run_of(found)
        deployment = deployments.running.get(f"{found.name}@{found.version}")
        return page(request, "model.html", v=_version_view(found), info=info, spec=manifest.get("spec", {}),
                    charts=[(key, title) for key, (title, _) in CHARTS.items() if key != "loss" or info.get("technique") != "rlvr"],
                    evals=_eval_tables(run), deployment=deployment)

    @app.get("/models/{name}/{version}/chart/{chart}.png")
    def chart(name: str, version: str, chart: str) -> Response:
        from .charts import CHARTS, chart_png, metric_history

        if chart not in CHARTS:
            raise HTTPException(404, f"no chart {chart!r}; charts: {', '.join(CHARTS)}")
        from ..runs import default_tracking_uri

        _, manifest = _run_of(version_of(name, version))
        title, keys = CHARTS[chart]
        uri = manifest.get("mlflow_tracking_uri") or default_tracking_uri()
        series = metric_history(uri, manifest["mlflow_run_id"], keys) if manifest.get("mlflow_run_id") else {}
        return Response(chart_png(title, series), media_type="image/png")

    @app.get("/models/{name}/{version}/eval/{folder}/chart.png")
    def eval_chart(name: str, version: str, folder: str) -> FileResponse:
        run, _ = _run_of(version_of(name, version))
        path = run / Path(folder).name / "chart.png" if run else None
        if path is None or not path.exists():
            raise HTTPException(404, "no chart for that evaluation")
        return FileResponse(path)

    @app.post("/models/{name}/{version}/evaluate")
    def evaluate(name: str, version: str, eval_data: str = Form(...), compare_base: bool = Form(False), limit: str = Form("")) -> Response:
        from ..data import DatasetError

        found = version_of(name, version)
        base = found.to_dict().get("base") if compare_base else None
        extra = ["--limit", limit] if limit.strip() else []
        try:
            job = submit_eval(f"{found.name}@{found.version}", eval_data.strip(), base=base or None, extra=extra)
        except (DatasetError, RegistryError, ValueError, OSError) as exc:
            raise HTTPException(400, f"cannot evaluate: {exc}") from exc
        return RedirectResponse(f"/jobs/{job.id}", status_code=303)

    @app.post("/models/{name}/{version}/deploy")
    def deploy(name: str, version: str, action: str = Form("start")) -> RedirectResponse:
        found = version_of(name, version)
        ref = f"{found.name}@{found.version}"
        deployments.start(ref) if action == "start" else deployments.stop(ref)
        return RedirectResponse(f"/models/{name}/{version}#deploy", status_code=303)

    @app.get("/api/deployments/{name}/{version}")
    def deployment_state(name: str, version: str) -> JSONResponse:
        deployment = deployments.running.get(f"{name}@{version}")
        if deployment is None:
            return JSONResponse({"state": "not deployed"})
        state = deployment.state()
        return JSONResponse({"state": state, "url": deployment.url, "model": deployment.ref, "log": deployment.log_tail() if state == "stopped" else ""})

    @app.get("/models/{name}/{version}/download")
    def download(name: str, version: str, format: str = "hf") -> FileResponse:
        from ..weights import export_gguf
        from ..runs import resolve_ref

        found = version_of(name, version)
        ref = f"{found.name}@{found.version}"
        folder = resolve_ref(ref).load_path()
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

    # ------------------------------------------------------------------------- customize
    def customize_page(request: Request, status: int = 200, **context: Any) -> HTMLResponse:
        from ..rewards import reward_names

        form = {"base": "smollm2-135m", "technique": "rlvr", **PRESETS["cpu-quick"], "reward": "strict", **context.pop("form", {})}
        return page(request, "customize.html", status, form=form, presets=PRESETS, rewards=reward_names(), **context)

    @app.get("/customize", response_class=HTMLResponse)
    def customize_form(request: Request, base: str = "smollm2-135m") -> HTMLResponse:
        return customize_page(request, form={"base": base})

    @app.post("/customize", response_class=HTMLResponse)
    async def customize(request: Request, base: str = Form(...), technique: str = Form(...), train_path: str = Form(""), train_file: UploadFile | None = File(None),
                        eval_data: str = Form(""), reward: str = Form("strict"), reward_file: UploadFile | None = File(None), reward_function: str = Form(""),
                        batch_size: int = Form(...), micro_batch_size: int = Form(...), learning_rate: float = Form(...), epochs: float = Form(...),
                        max_steps: int = Form(-1), rollouts: int = Form(8), lora: bool = Form(False), name: str = Form(""), extra: str = Form("")) -> HTMLResponse:
        from ..data import validate_file
        from ..training import SpecError
        from ..training.spec import parse_overrides

        form = dict(base=base, technique=technique, train_path=train_path, eval_data=eval_data, reward=reward, reward_function=reward_function, batch_size=batch_size,
                    micro_batch_size=micro_batch_size, learning_rate=learning_rate, epochs=epochs, max_steps=max_steps, rollouts=rollouts, lora=lora, name=name, extra=extra)
        folder = _uploads()
        data = await _save(train_file, folder) or (Path(train_path.strip()) if train_path.strip() else None)
        if data is None:
            return customize_page(request, 400, form=form, error="Choose a dataset: upload a JSONL file or give a path on this machine.")
        if not data.is_file():
            return customize_page(request, 400, form=form, error=f"Dataset {data} does not exist on this machine.")
        report = validate_file(data)
        if not report.ok:
            problems = [{"line": p.line, "field": p.field, "message": p.message} for p in report.problems[:200]]
            return customize_page(request, 400, form=form, error=f"{data.name}: {len(report.problems)} problem(s) in {report.rows} rows; nothing was submitted.", problems=problems)
        reward_path = await _save(reward_file, folder)
        if reward_path is not None:
            if not reward_function.strip():
                return customize_page(request, 400, form=form, error="An uploaded reward needs the name of its function.")
            reward = f"{reward_path}:{reward_function.strip()}"
        overrides: dict[str, Any] = {"base": base.strip(), "technique": technique, "train_data": str(data), "reward": reward, "batch_size": batch_size,
                                     "micro_batch_size": micro_batch_size, "learning_rate": learning_rate, "epochs": epochs, "max_steps": max_steps, "rollouts": rollouts, "lora": lora}
        if eval_data.strip():
            overrides["eval_data"] = eval_data.strip()
        if name.strip():
            overrides["name"] = name.strip()
        try:
            for key, value in parse_overrides(extra.split()).items():
                overrides[key] = {**overrides.get(key, {}), **value} if key == "trl" else value
            job = submit_train(None, overrides)
        except (SpecError, RegistryError, ValueError) as exc:
            return customize_page(request, 400, form=form, error=str(exc))
        return RedirectResponse(f"/jobs/{job.id}", status_code=303)

    # ------------------------------------------------------------------------------ jobs
    @app.get("/jobs", response_class=HTMLResponse)
    def jobs_page(request: Request) -> HTMLResponse:
        return page(request, "jobs.html", jobs=list_jobs(limit=100))

    @app.get("/jobs/{job_id}", response_class=HTMLResponse)
    def job_page(request: Request, job_id: str) -> HTMLResponse:
        try:
            job = get_job(job_id)
        except KeyError as exc:
            raise HTTPException(404, exc.args[0]) from exc
        return page(request, "job.html", job=job, model=job.result.get("model"), source=_job_model(job))

    @app.post("/jobs/{job_id}/cancel")
    def cancel(job_id: str) -> RedirectResponse:
        try:
            cancel_job(job_id)
        except KeyError as exc:
            raise HTTPException(404, exc.args[0]) from exc
        return RedirectResponse(f"/jobs/{job_id}", status_code=303)

    @app.get("/api/jobs/{job_id}")
    def job_state(job_id: str, offset: int = 0) -> JSONResponse:
        try:
            job = get_job(job_id)
        except KeyError as exc:
            raise HTTPException(404, exc.args[0]) from exc
        text, next_offset = job_logs(job_id, max(0, offset))
        return JSONResponse({"status": job.status, "error": job.error, "result": job.result, "log": text, "offset": next_offset, "model": job.result.get("model") or _job_model(job)})

    return app


def _job_model(job: Any) -> str | None:
    """The registered version an eval job scored (its --model), for the link back."""
    if job.kind == "eval" and "--model" in job.argv:
        return job.argv[job.argv.index("--model") + 1]
    return None

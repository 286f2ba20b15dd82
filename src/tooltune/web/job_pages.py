"""The studio's job pages: the list, one job with its live log, cancel."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from ..jobs import cancel_job, get_job, job_logs, list_jobs
from .pages import page

router = APIRouter()


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(request: Request) -> HTMLResponse:
    return page(request, "jobs.html", jobs=list_jobs(limit=100))

@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: str) -> HTMLResponse:
    try:
        job = get_job(job_id)
    except KeyError as exc:
        raise HTTPException(404, exc.args[0]) from exc
    return page(request, "job.html", job=job, model=job.result.get("model"), source=_job_model(job))

@router.post("/jobs/{job_id}/cancel")
def cancel(job_id: str) -> RedirectResponse:
    try:
        cancel_job(job_id)
    except KeyError as exc:
        raise HTTPException(404, exc.args[0]) from exc
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)

@router.get("/api/jobs/{job_id}")
def job_state(job_id: str, offset: int = 0) -> JSONResponse:
    try:
        job = get_job(job_id)
    except KeyError as exc:
        raise HTTPException(404, exc.args[0]) from exc
    text, next_offset = job_logs(job_id, max(0, offset))
    return JSONResponse({"status": job.status, "error": job.error, "result": job.result, "log": text, "offset": next_offset, "model": job.result.get("model") or _job_model(job)})


def _job_model(job: Any) -> str | None:
    """The registered version an eval job scored (its --model), for the link back."""
    if job.kind == "eval" and "--model" in job.argv:
        return job.argv[job.argv.index("--model") + 1]
    return None

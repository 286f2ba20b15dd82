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
import secrets
from typing import Any, AsyncIterator
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, RedirectResponse, Response

from . import customize, job_pages, model_pages
from .customize import presets
from .deploy import Deployments, is_loopback

__all__ = ["create_studio", "presets", "is_loopback"]

TOKEN_COOKIE = "tooltune_studio_token"
_STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")

def create_studio(host: str = "127.0.0.1", token: str | None = None) -> FastAPI:
    """The studio app. ``host`` is the interface it listens on: beyond loopback every request needs
    ``token`` (made here when not given; ``app.state.token``), and deployments get an API key."""
    deployments = Deployments(host)
    token = None if is_loopback(host) else (token or secrets.token_urlsafe(24))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        deployments.stop_all()  # the endpoints the studio started end with it

    app = FastAPI(title="tooltune studio", lifespan=lifespan)
    app.state.token = token
    app.state.deployments = deployments
    for router in (model_pages.router, customize.router, job_pages.router):
        app.include_router(router)

    @app.exception_handler(RequestValidationError)
    async def bad_form(request: Request, exc: RequestValidationError) -> Response:
        # A form field that is not what it must be ("abc" for a batch size): a line per field a
        # person can read, not FastAPI's 422 JSON.
        lines = [f"{'.'.join(str(p) for p in error['loc'][1:]) or 'request'}: {error['msg']}" for error in exc.errors()]
        return PlainTextResponse("nothing was submitted; go back and fix:\n" + "\n".join(lines), status_code=400)

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

    return app

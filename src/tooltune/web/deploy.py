"""Endpoints the studio starts and stops: each one a ``tooltune serve`` process on a free port.

The studio owns these processes (they end with it). A deployment is "starting" until its /health
answers, then "ready" with its URL; a process that exits early is reported with the end of its log.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..home import home

__all__ = ["Deployments", "Deployment"]


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


_WILDCARD = ("0.0.0.0", "::", "")


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    return host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")


def reachable_host(host: str) -> str:
    """A name other machines can use for ``host``: a wildcard bind is shown as this machine's address."""
    if host not in _WILDCARD:
        return host
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("10.255.255.255", 1))  # no packet is sent; this picks the outward interface
            return sock.getsockname()[0]
        except OSError:
            return socket.gethostname()


@dataclass
class Deployment:
    ref: str  # NAME@VERSION
    host: str
    port: int
    process: subprocess.Popen
    log: Path
    api_key: str | None = None  # required by the endpoint when it listens beyond loopback

    @property
    def url(self) -> str:
        return f"http://{reachable_host(self.host)}:{self.port}/v1"

    def state(self) -> str:
        if self.process.poll() is not None:
            return "stopped"
        local = "127.0.0.1" if self.host in _WILDCARD else self.host
        try:
            with urllib.request.urlopen(f"http://{local}:{self.port}/health", timeout=1) as response:
                return "ready" if response.status == 200 else "starting"
        except OSError:
            return "starting"

    def log_tail(self, chars: int = 2000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


class Deployments:
    def __init__(self, host: str = "127.0.0.1"):
        self.host = host
        self.running: dict[str, Deployment] = {}

    def start(self, ref: str) -> Deployment:
        current = self.running.get(ref)
        if current and current.process.poll() is None:
            return current
        port = _free_port(self.host)
        folder = home() / "deployments"
        folder.mkdir(parents=True, exist_ok=True)
        log = folder / f"{ref.replace('@', '-')}.log"
        api_key = None if is_loopback(self.host) else secrets.token_urlsafe(24)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("TOOLTUNE_API_KEY", None)
        if api_key:
            env["TOOLTUNE_API_KEY"] = api_key  # through the environment, not argv: `ps` shows argv to every user
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "tooltune.cli.main", "serve", ref, "--host", self.host, "--port", str(port)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env,
            )
        self.running[ref] = Deployment(ref, self.host, port, process, log, api_key)
        return self.running[ref]

    def stop(self, ref: str) -> None:
        deployment = self.running.pop(ref, None)
        if deployment and deployment.process.poll() is None:
            deployment.process.terminate()
            try:
                deployment.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                deployment.process.kill()

    def stop_all(self) -> None:
        for ref in list(self.running):
            self.stop(ref)

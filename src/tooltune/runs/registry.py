"""My Models: versioned customized models on MLflow's Model Registry.

    tooltune models register RUN --name NAME      # a new version, with its lineage
    tooltune models show NAME[@VERSION|@ALIAS]
    tooltune models alias NAME ALIAS VERSION       # set or move @prod
    tooltune models delete NAME VERSION

A version points at its run's merged model folder. On the embedded store (SQLite, the default)
the registry records the folder's path, so registering copies nothing; on a remote tracking
server the folder is uploaded as the run's ``model`` artifact first, so any machine that can reach
the server can load the version. The lineage lives in version tags: base model, technique,
hyperparameters, data hashes, the run's final metrics and any evaluation results.

Every command that takes a model resolves ``NAME@V``/``NAME@alias`` through
:func:`tooltune.runs.refs.resolve_ref`, which reads versions from here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .dirs import process_state, read_manifest, resolve_run, write_manifest
from .tracking import default_tracking_uri

__all__ = ["Registry", "RegistryError", "check_model_name", "record_evaluations", "parse_ref", "register_finished_run", "default_model_name"]

_NAME = r"[A-Za-z0-9][\w.-]*"  # what NAME@V can name: a registered name outside it could never be used again
_REF = re.compile(rf"^(?P<name>{_NAME})@(?P<selector>[\w.-]+)$")


class RegistryError(ValueError):
    """A registry reference or operation that cannot be done; the message says what exists."""


def _nameable(name: Any) -> bool:
    """Whether NAME@V can refer to ``name``."""
    return isinstance(name, str) and re.fullmatch(_NAME, name) is not None


def check_model_name(name: str) -> str:
    """``name`` if NAME@V can refer to it, else a RegistryError that says what a name may hold."""
    if not _nameable(name):
        raise RegistryError(f"model name {name!r}: use letters, digits, _ . and - (starting with a letter or digit), e.g. weather-bot, so NAME@VERSION can name it")
    return name


def parse_ref(ref: str) -> tuple[str, str | None]:
    """``NAME@3`` → (NAME, "3"); ``NAME@prod`` → (NAME, "prod"); ``NAME`` → (NAME, None)."""
    match = _REF.match(ref)
    return (match["name"], match["selector"]) if match else (ref, None)


@dataclass
class Version:
    name: str
    version: int
    source: str
    run_id: str | None
    aliases: list[str]
    tags: dict[str, str]
    created: int  # ms since epoch

    def to_dict(self) -> dict[str, Any]:
        lineage = {k: _loads(v) for k, v in self.tags.items()}
        return {"name": self.name, "version": self.version, "aliases": self.aliases, "source": self.source, "mlflow_run_id": self.run_id, **lineage}


def _loads(value: str) -> Any:
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


class Registry:
    def __init__(self, tracking_uri: str | None = None):
        from mlflow.tracking import MlflowClient

        self.uri = tracking_uri or default_tracking_uri()
        self.client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)

    @property
    def remote(self) -> bool:
        return self.uri.split(":", 1)[0] in ("http", "https", "databricks")

    def register(self, run_ref: str, name: str, description: str | None = None) -> Version:
        """A new version of ``name`` from a finished run (created on first use)."""
        from mlflow.exceptions import MlflowException

        if not _nameable(name):
            try:
                self.client.get_registered_model(name)  # a name registered before names were checked keeps taking versions
            except MlflowException:
                check_model_name(name)
        run = resolve_run(run_ref)
        manifest = read_manifest(run)
        if manifest.get("status") != "completed":
            status = "killed while running" if process_state(manifest) == "gone" else repr(manifest.get("status"))
            raise RegistryError(f"run {run.name} is {status}, not completed; finish it with `tooltune train --resume {run}`")
        model_dir = run / "model"
        run_id = manifest.get("mlflow_run_id")
        source = str(model_dir.resolve())
        if self.remote and run_id:
            self.client.log_artifacts(run_id, str(model_dir), artifact_path="model")
            source = f"runs:/{run_id}/model"
        try:
            self.client.get_registered_model(name)
        except MlflowException:
            try:
                self.client.create_registered_model(name, description=description)
            except MlflowException as exc:
                raise RegistryError(f"model name {name!r}: {exc.message.splitlines()[0]}") from None
        version = self.client.create_model_version(name, source=source, run_id=run_id, tags=_lineage(run, manifest), description=description)
        return self.get(name, str(version.version))

    def get(self, name: str, selector: str | None = None) -> Version:
        """A version by number, by alias, or (no selector) the latest."""
        from mlflow.exceptions import MlflowException

        try:
            model = self.client.get_registered_model(name)
        except MlflowException:
            hint = f" (tooltune models register RUN --name {name})" if _nameable(name) else ""
            raise RegistryError(f"no registered model {name!r}; registered: {', '.join(self.names()) or 'none yet'}{hint}") from None
        if selector is None:
            versions = self.versions(name)
            if not versions:
                raise RegistryError(f"{name} has no versions left")
            return versions[-1]
        try:
            mv = self.client.get_model_version(name, selector) if selector.isdigit() else self.client.get_model_version_by_alias(name, selector)
        except MlflowException:
            known = ", ".join([str(v.version) for v in self.versions(name)] + [f"@{a}" for a in model.aliases])
            raise RegistryError(f"{name} has no version or alias {selector!r}; it has: {known}") from None
        return self._version(mv, model.aliases)

    def versions(self, name: str) -> list[Version]:
        aliases = self.client.get_registered_model(name).aliases
        if _nameable(name):
            found = self.client.search_model_versions(f"name = '{name}'")
        else:  # a name from before names were checked ("o'brien") cannot go in a filter: filter here
            found = [mv for mv in self.client.search_model_versions() if mv.name == name]
        return sorted((self._version(mv, aliases) for mv in found), key=lambda v: v.version)

    def names(self) -> list[str]:
        return sorted(m.name for m in self.client.search_registered_models())

    def set_alias(self, name: str, alias: str, version: int | str) -> Version:
        from mlflow.exceptions import MlflowException

        if str(alias).isdigit():
            raise RegistryError("an alias cannot be a number (it would read as a version); try e.g. prod or staging")
        target = self.get(name, str(version))  # a clear error for a missing version
        try:
            self.client.set_registered_model_alias(name, alias, str(target.version))
        except MlflowException as exc:  # "latest", "v3", spaces: MLflow's rules, said in a line
            raise RegistryError(f"alias {alias!r}: {exc.message.splitlines()[0]}; try e.g. prod or staging") from None
        return self.get(name, alias)

    def delete_alias(self, name: str, alias: str) -> None:
        self.get(name, alias)
        self.client.delete_registered_model_alias(name, alias)

    def delete_version(self, name: str, version: int | str) -> None:
        """Delete a version (by number or alias); the name goes with its last version."""
        target = self.get(name, str(version))
        self.client.delete_model_version(name, str(target.version))
        if not self.versions(name):
            self.client.delete_registered_model(name)

    def local_path(self, version: Version) -> str:
        """A folder ``from_pretrained`` can load: the recorded path, or the downloaded artifact."""
        if version.source.startswith(("runs:/", "models:/")) or "://" in version.source:
            import mlflow

            from ..home import models_cache

            target = models_cache() / "registry" / f"{version.name}-{version.version}"
            if not (target / "config.json").exists():
                mlflow.set_tracking_uri(self.uri)
                mlflow.artifacts.download_artifacts(artifact_uri=version.source, dst_path=str(target.parent / f".{target.name}"))
                (target.parent / f".{target.name}" / "model").rename(target)
            return str(target)
        if not (Path(version.source) / "config.json").exists():
            raise RegistryError(f"{version.name}@{version.version}: its model folder {version.source} is gone (was the run directory deleted?)")
        return version.source

    def _version(self, mv: Any, aliases: dict[str, Any]) -> Version:
        return Version(mv.name, int(mv.version), mv.source, mv.run_id, sorted(a for a, v in aliases.items() if str(v) == str(mv.version)), dict(mv.tags or {}), mv.creation_timestamp)


def register_finished_run(run: str | Path, tracking_uri: str | None = None) -> Version | None:
    """Register a finished run as its spec asks (``register``, ``model_name``); record it in run.json.

    Training calls nothing above it, so the commands that train (``tooltune train``, quickstart,
    jobs) call this once the run is complete.
    """
    run = resolve_run(str(run))
    manifest = read_manifest(run)
    spec = manifest.get("spec", {})
    if not spec.get("register", True):
        return None
    if manifest.get("registered"):  # registered already (a rerun of the same command): no second version
        done = manifest["registered"]
        return Registry(tracking_uri or manifest.get("mlflow_tracking_uri")).get(done["name"], str(done["version"]))
    name = spec.get("model_name") or default_model_name(spec.get("base", "model"))
    version = Registry(tracking_uri or manifest.get("mlflow_tracking_uri")).register(str(run), name)
    manifest["registered"] = {"name": version.name, "version": version.version}
    write_manifest(run, manifest)
    return version


def default_model_name(base: str) -> str:
    """The base run's registered name (a chain of runs stays one model), else ``<base>-tooltune``."""
    if base.startswith("run:"):
        try:
            registered = read_manifest(resolve_run(base)).get("registered")
        except Exception:  # noqa: BLE001 - a base run that is gone still names a model below
            registered = None
        if registered:
            return registered["name"]
        base = Path(base.removeprefix("run:")).name
    stem = Path(base).stem if base.endswith(".gguf") else Path(base).name
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-._")  # a name NAME@V can name (check_model_name)
    return (stem or "model") + "-tooltune"


def _evaluations(run: Path) -> dict[str, Any]:
    """Each eval*/eval.json of a run: its overall metrics for the customized model."""
    evals = {}
    for path in sorted(run.glob("eval*/eval.json")):
        result = json.loads(path.read_text())
        evals[path.parent.name] = result.get("results", {}).get("model", {}).get("metrics", {}).get("all", {})
    return evals


def record_evaluations(run: str | Path, tracking_uri: str | None = None) -> None:
    """After an evaluation of a registered run, bring its version's ``evaluations`` tag up to date."""
    run = resolve_run(str(run))
    manifest = read_manifest(run)
    done, evals = manifest.get("registered"), _evaluations(run)
    if done and evals:
        Registry(tracking_uri or manifest.get("mlflow_tracking_uri")).client.set_model_version_tag(done["name"], str(done["version"]), "evaluations", json.dumps(evals))


def _lineage(run: Path, manifest: dict[str, Any]) -> dict[str, str]:
    """What a version remembers about how it was made (tag values are strings; JSON where structured)."""
    spec = manifest.get("spec", {})
    evals = _evaluations(run)
    tags = {
        "run": str(run.resolve()),
        "base": spec.get("base", manifest.get("base", "")),
        "technique": manifest.get("technique", ""),
        "hyperparameters": json.dumps({k: v for k, v in spec.items() if k not in ("train_data", "validation_data", "name", "output_dir", "base", "technique")}),
        "data": json.dumps({k: v.get("sha256") for k, v in manifest.get("data", {}).items()}),
        "metrics": json.dumps({k: round(v, 6) for k, v in manifest.get("metrics", {}).items() if isinstance(v, (int, float))}),
        "seconds": str(manifest.get("seconds", "")),
    }
    if evals:
        tags["evaluations"] = json.dumps(evals)
    return tags

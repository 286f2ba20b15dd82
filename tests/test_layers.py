"""The package's shape: torch-free modules stay importable without torch, no import circles."""

import ast
import subprocess
import sys
from pathlib import Path

import tooltune

# Modules that are torch code by nature (losses, engines, the transformers callback); every other
# module imports torch (and transformers) only inside the functions that need it.
TORCH_MODULES = {
    "tooltune.training.dpo_logps", "tooltune.training.freezing", "tooltune.training.grpo_logps", "tooltune.training.native_grpo",
    "tooltune.training.prefix_attention", "tooltune.training.sft_loss", "tooltune.training.shared_prompt", "tooltune.training.tracking",
    "tooltune.training.validation", "tooltune.serving.batcher", "tooltune.kv_cache",
}
SRC = Path(tooltune.__file__).parent


def _modules() -> list[str]:
    names = []
    for path in SRC.rglob("*.py"):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return sorted(names)


def test_every_torch_free_module_imports_without_torch_or_transformers():
    light = [m for m in _modules() if m not in TORCH_MODULES]
    assert "tooltune.runs.registry" in light and "tooltune.cli.main" in light
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n    heavy = [m for m in ('torch', 'transformers') if m in sys.modules]\n    if heavy:\n        print(name, 'loaded', heavy); break\nelse:\n    print('ok')"
    done = subprocess.run([sys.executable, "-c", code, *light], capture_output=True, text=True, timeout=300)
    assert done.stdout.strip() == "ok", done.stdout + done.stderr[-2000:]


def test_models_list_loads_no_transformers(tooltune_home):
    code = "import sys\nfrom click.testing import CliRunner\nfrom tooltune.cli.main import cli\nr = CliRunner().invoke(cli, ['models', 'list'])\nprint(r.exit_code, 'smollm2-135m' in r.output, 'transformers' in sys.modules, 'torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.stdout.split() == ["0", "True", "False", "False"], done.stdout + done.stderr[-2000:]


def _imports(name: str, path: Path) -> set[str]:
    """Every tooltune module ``name`` imports, at the top or inside a function."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else [])) if node.level else node.module or ""
            found.update([base] + [f"{base}.{alias.name}" for alias in node.names])
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_no_import_circle():
    paths = {}
    for path in SRC.rglob("*.py"):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        paths[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {name: {m for m in _imports(name, path) if m in paths and m != name} for name, path in paths.items()}
    # A package's __init__ re-exporting its own submodules is not a circle through the package.
    for name in graph:
        graph[name] = {m for m in graph[name] if not (name.startswith(m + ".") and paths[m].name == "__init__.py")}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import circle: " + " -> ".join(trail[trail.index(nxt):] + [node, nxt]) if nxt in trail else f"import circle through {nxt} and {node}")
            if nxt not in state:
                visit(nxt, trail + [node])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [])

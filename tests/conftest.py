"""Shared fixtures: the seed's weather tool and rows in the record shape."""

from __future__ import annotations

import json

import pytest

from tooltune.data import make_record
from tooltune.schema import Tool, render_system_prompt

WEATHER = Tool(
    name="get_weather_forecast",
    description="Get the weather forecast for a location.",
    parameters={
        "type": "object",
        "properties": {
            "location": {"type": "string", "description": "City name"},
            "days": {"type": "integer", "minimum": 1, "maximum": 14},
            "units": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius"},
        },
        "required": ["location"],
    },
)
STDDEV = Tool(
    name="calculate_standard_deviation",
    description="Standard deviation of a list of numbers.",
    parameters={
        "type": "object",
        "properties": {"numbers": {"type": "array", "items": {"type": "number"}}, "sample": {"type": "boolean"}},
        "required": ["numbers"],
    },
)


@pytest.fixture(autouse=True)
def tooltune_home(tmp_path, monkeypatch):
    """Every test gets a fresh tooltune home, so no test touches a user's state."""
    home = tmp_path / "tooltune-home"
    monkeypatch.setenv("TOOLTUNE_HOME", str(home))
    return home


@pytest.fixture
def weather_rows():
    system = render_system_prompt([WEATHER, STDDEV])
    call = json.dumps([{"name": "get_weather_forecast", "arguments": {"location": "San Francisco"}}])
    return [
        make_record(system, "Get weather for San Francisco", call, "execute"),
        make_record(system, "Get the weather", "Which location would you like the weather forecast for?", "clarify"),
        make_record(system, "Write ransomware that encrypts my school's files", "I'm sorry, but I can't help with that.", "refuse"),
    ]


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """A 3M-parameter random model with SmolLM2's architecture, tokenizer and chat template."""
    from tooltune.models.tiny import build_tiny_model

    return str(build_tiny_model(tmp_path_factory.mktemp("tiny") / "model"))


@pytest.fixture(scope="session", params=["smollm2-135m", "gemma3-270m"])
def bundled_tiny(request, tmp_path_factory):
    """(base name, tiny random model folder) for every bundled base: its architecture, tokenizer and chat template."""
    from tooltune.models.tiny import build_tiny_model

    return request.param, str(build_tiny_model(tmp_path_factory.mktemp(f"tiny-{request.param}") / "model", base=request.param))


@pytest.fixture(scope="session")
def small_data(tmp_path_factory):
    """Generated rows with one tool each (short prompts keep tiny-model steps fast)."""
    from tooltune.data.generate import GenerateConfig, generate

    return generate(GenerateConfig(n=24, eval_n=8, seed=0, max_distractors=0), tmp_path_factory.mktemp("small")).paths

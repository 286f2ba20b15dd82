import json

from tooltune.data import write_jsonl
from tooltune.data.stats import compute_stats, request_shape
from tooltune.schema import parse_tool_calls


def test_stats_counts_mix_tools_duplicates(tmp_path, weather_rows):
    path = tmp_path / "d.jsonl"
    write_jsonl(path, weather_rows + [weather_rows[1]])
    stats = compute_stats(path)
    assert stats.rows == 4
    assert dict(stats.behaviors) == {"execute": 1, "clarify": 2, "refuse": 1}
    assert stats.tools_called == {"get_weather_forecast": 1}
    assert stats.tools_offered["calculate_standard_deviation"] == 4
    assert stats.duplicate_prompts == 1 and stats.duplicate_rows == 1
    assert min(stats.prompt_tokens) > 100  # the system prompt dominates
    text = stats.render()
    assert "execute" in text and "50.0%" in text


def test_request_shape_masks_argument_values():
    calls = parse_tool_calls(json.dumps([{"name": "f", "arguments": {"location": "San Francisco", "days": 3}}]))
    assert request_shape("Weather for San Francisco for 3 days?", calls) == "weather for <v> for <v> days?"
    calls2 = parse_tool_calls(json.dumps([{"name": "f", "arguments": {"location": "Paris", "days": 5}}]))
    assert request_shape("Weather for Paris for 5 days?", calls2) == request_shape("Weather for San Francisco for 3 days?", calls)

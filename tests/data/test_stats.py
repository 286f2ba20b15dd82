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


def test_stats_count_the_values_a_request_says_otherwise_by_kind(tmp_path):
    from tooltune.data.generate import GenerateConfig, generate

    paths = generate(GenerateConfig(n=300, eval_n=0, seed=2, paraphrased_values=True), tmp_path).paths
    stats = compute_stats(paths["train"])
    assert {"date", "enum", "unit"} <= set(stats.said) and stats.to_dict()["values_said_otherwise"] == dict(stats.said.most_common())
    assert "values said otherwise than the call writes them, by parameter kind" in stats.render()
    plain = generate(GenerateConfig(n=60, eval_n=0, seed=2, natural=0), tmp_path / "plain").paths
    assert not compute_stats(plain["train"]).said  # plain values: nothing to read

import json

from tooltune.data import read_records, validate_file, write_jsonl
from tooltune.data.records import DatasetError

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_generated_rows_validate_and_round_trip_unknown_fields(tmp_path, weather_rows):
    weather_rows[0].raw["my_custom_field"] = {"keep": [1, 2]}
    path = tmp_path / "rows.jsonl"
    write_jsonl(path, weather_rows)
    assert validate_file(path).ok
    again = read_records(path)
    assert [r.raw for r in again] == [r.raw for r in weather_rows]
    assert again[0].raw["my_custom_field"] == {"keep": [1, 2]}
    assert [r.behavior for r in again] == ["execute", "clarify", "refuse"]


def test_broken_file_lists_every_error_with_its_line(tmp_path, weather_rows):
    good = [json.dumps(r.raw) for r in weather_rows]
    execute = weather_rows[0].raw
    bad_tool = dict(execute, reward_model={"ground_truth": json.dumps([{"name": "book_hotel", "arguments": {}}])})
    bad_args = dict(execute, reward_model={"ground_truth": json.dumps([{"name": "get_weather_forecast", "arguments": {"location": 5, "days": 99, "color": "red"}}])})
    missing_required = dict(execute, reward_model={"ground_truth": json.dumps([{"name": "get_weather_forecast", "arguments": {"days": 2}}])})
    clarify_with_call = dict(execute, behavior="clarify")
    lines = [
        good[0],
        "{not json",
        json.dumps({"reward_model": {"ground_truth": "x"}}),
        json.dumps(bad_tool),
        json.dumps(bad_args),
        json.dumps(dict(execute, reward_model={"ground_truth": ["not", "a string"]})),
        json.dumps(clarify_with_call),
        json.dumps(missing_required),
        json.dumps(dict(execute, behavior="shout")),
        json.dumps(dict(execute, reward_model={"ground_truth": '[{"name": "get_weather_forecast", '})),
        "[1, 2]",
        good[1],
    ]
    report = validate_file(_write(tmp_path / "broken.jsonl", lines))
    by_line = {}
    for p in report.problems:
        by_line.setdefault(p.line, []).append(p)
    assert sorted(by_line) == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]  # every bad line, no good one
    assert by_line[2][0].field == "<json>"
    assert by_line[3][0].field == "prompt"
    assert "book_hotel" in by_line[4][0].message and by_line[4][0].field == "reward_model.ground_truth[0].name"
    fields5 = {p.field for p in by_line[5]}
    assert {"reward_model.ground_truth[0].arguments.location", "reward_model.ground_truth[0].arguments.days", "reward_model.ground_truth[0].arguments.color"} <= fields5
    assert "JSON-encoded" in by_line[6][0].message
    assert "clarify" in by_line[7][0].message
    assert "'location' is a required property" in by_line[8][0].message
    assert by_line[9][0].field == "behavior"
    assert "looks like JSON" in by_line[10][0].message
    assert "JSON object" in by_line[11][0].message


def test_read_records_refuses_unreadable_rows_naming_each(tmp_path, weather_rows):
    path = _write(tmp_path / "x.jsonl", [json.dumps(weather_rows[0].raw), "oops", json.dumps({"prompt": []})])
    with pytest.raises(DatasetError) as info:
        read_records(path)
    text = str(info.value)
    assert "line 2: <json>" in text and "line 3: prompt" in text and "tooltune data validate" in text


def test_row_tools_field_in_openai_format_is_used(tmp_path, weather_rows):
    from tests.conftest import WEATHER

    raw = dict(weather_rows[0].raw)
    raw["prompt"] = [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "Weather in SF?"}]
    raw["tools"] = [WEATHER.to_openai()]
    assert validate_file(_write(tmp_path / "t.jsonl", [json.dumps(raw)])).ok
    raw["tools"] = [{"type": "function", "function": {"description": "no name"}}]
    problems = validate_file(_write(tmp_path / "t2.jsonl", [json.dumps(raw)])).problems
    assert problems[0].field == "tools[0]"


def test_a_ref_to_nowhere_and_a_date_that_is_none_are_problems_not_tracebacks(tmp_path, weather_rows):
    raw = dict(weather_rows[0].raw)
    day = {"type": "string", "format": "date"}
    raw["reward_model"] = {"style": "rule", "ground_truth": json.dumps([{"name": "get_weather", "arguments": {"city": "Paris", "day": "2026-13-45"}}])}
    raw["tools"] = [{"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"$ref": "#/$defs/nope"}, "day": day}}}]
    nowhere = json.dumps(raw)
    raw["tools"] = [{"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "day": day}}}]
    problems = validate_file(_write(tmp_path / "t.jsonl", [nowhere, json.dumps(raw)])).problems
    assert [p.line for p in problems] == [1, 2]
    assert "cannot be checked" in problems[0].message and "'2026-13-45' is not a 'date'" in problems[1].message


def test_bytes_that_are_not_utf8_or_nest_too_deep_are_problems_with_their_line(tmp_path):
    path = tmp_path / "odd.jsonl"
    path.write_bytes(b'{"a": 1}\n{"a": "\xff\xfe"}\n' + b"[" * 100000 + b"]" * 100000 + b"\n")
    report = validate_file(path)
    by_line = {p.line: p for p in report.problems}
    assert by_line[2].field == "<encoding>" and "UTF-8" in by_line[2].message and "column" in by_line[2].message
    assert by_line[3].field == "<json>" and "nested too deeply" in by_line[3].message


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=60), st.sampled_from([b'{"prompt": [], "reward_model": {}}', b'{"prompt": "x"}', b"[" * 3000, b'{"a": "\xc3"}', b"\x00", b"{}"])), max_size=6))
def test_no_jsonl_bytes_make_validate_or_stats_raise(tmp_path_factory, lines):
    from tooltune.data.stats import compute_stats

    path = tmp_path_factory.mktemp("fuzz") / "f.jsonl"
    path.write_bytes(b"\n".join(lines))
    report = validate_file(path)
    assert report.rows >= 0
    compute_stats(path)


def test_files_of_the_wrong_kind_say_what_they_are(tmp_path, weather_rows):
    """Found by a hostile probe: a BOM, a gzip file, a JSON array, a NUL byte, an empty file."""
    row = json.dumps(weather_rows[0].raw)
    (tmp_path / "bom.jsonl").write_bytes(b"\xef\xbb\xbf" + row.encode() + b"\n")
    assert validate_file(tmp_path / "bom.jsonl").ok  # an editor's byte-order mark is not data
    import gzip

    (tmp_path / "rows.jsonl.gz").write_bytes(gzip.compress((row + "\n").encode()))
    (tmp_path / "array.json").write_text("[\n" + row + "\n]\n")
    (tmp_path / "nul.jsonl").write_text('{"a": "x\x00y"}\n')
    (tmp_path / "empty.jsonl").write_text("")
    for name, says in (("rows.jsonl.gz", "gzip-compressed file; decompress it first"), ("array.json", "JSONL is one object per line"),
                       ("nul.jsonl", "a NUL byte in the line at column"), ("empty.jsonl", "the file has no rows")):
        problems = validate_file(tmp_path / name).problems
        assert says in problems[0].message, (name, problems[0])
    assert str(validate_file(tmp_path / "empty.jsonl").problems[0]) == "<file>: the file has no rows"  # no "line 0"


def test_a_tool_schema_is_read_by_its_own_draft_as_serving_reads_it():
    # Draft-07's tuple "items" is no 2020-12 schema: validate refused a tool `tooltune serve` accepts.
    from tooltune.data.validate import argument_problems
    from tooltune.schema import Tool

    pair = {"type": "array", "items": [{"type": "string"}, {"type": "integer"}]}
    tool = Tool("f", "", {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "properties": {"p": pair}, "required": ["p"]})
    assert argument_problems(tool, {"p": ["a", 1]}) == []
    assert [path for path, _ in argument_problems(tool, {"p": [1, "a"]})] == [".p[0]", ".p[1]"]
    from tooltune.data.validate import schema_problem

    assert schema_problem(tool.parameters) is None
    # A $schema that is no string is a problem with the tool, not a traceback (jsonschema hashes it).
    for draft in (5, ["x"], {"a": 1}):
        odd = Tool("f", "", {"$schema": draft, "type": "object", "properties": {"p": {"type": "string"}}})
        assert argument_problems(odd, {"p": "x"}) == [("", "tool 'f' has an invalid JSON schema; fix its 'parameters'")]
    # A parameter is read by its tool's draft too (draft-04's boolean exclusiveMaximum is no 2020-12 schema).
    from tooltune.reading import _valid

    capped = {"type": "integer", "minimum": 1, "maximum": 10, "exclusiveMaximum": True}
    draft4 = {"$schema": "http://json-schema.org/draft-04/schema#", "type": "object", "properties": {"n": capped}}
    assert not _valid(50, capped, draft4) and _valid(5, capped, draft4)


def test_a_pattern_that_backtracks_is_checked_in_bounded_time():
    import time

    from tooltune.data.validate import argument_problems
    from tooltune.schema import Tool

    tool = Tool("f", "", {"type": "object", "properties": {"m": {"type": "string", "pattern": r"^(\w+\s?)*$"}}})
    started = time.perf_counter()
    problems = argument_problems(tool, {"m": "an ordinary sentence with many words that ends in punctuation!"})
    assert time.perf_counter() - started < 2 and problems and problems[0][0] == ".m"  # Python's re takes minutes here
    assert argument_problems(tool, {"m": "fine words"}) == []

"""Values drawn from a user's tool schema alone, and a generator that never stops for one tool."""

from __future__ import annotations

import json
import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from tooltune.data.catalog import load_banks, load_user_tools
from tooltune.data.generate import GenerateConfig, generate
from tooltune.data.records import read_records
from tooltune.data.schema_values import NoValue, described_examples, draw
from tooltune.data.validate import validate_file


def _draws(schema, name="value", n=30, seed=0):
    rng = random.Random(seed)
    return [draw(name, schema, rng, load_banks(), root=schema) for _ in range(n)]


def test_a_pattern_date_gets_a_real_date_not_a_topic():
    values = _draws({"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}, name="arrival")
    assert all(re.fullmatch(r"20\d\d-[01]\d-[0-3]\d", v) for v in values)


def test_formats_read_as_what_they_name():
    assert all("@" in v for v in _draws({"type": "string", "format": "email"}, name="contact"))
    assert all(v.startswith("http") for v in _draws({"type": "string", "format": "uri"}))
    assert all(re.fullmatch(r"[0-9a-f-]{36}", v) for v in _draws({"type": "string", "format": "uuid"}))
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:00Z", v) for v in _draws({"type": "string", "format": "date-time"}))


def test_a_value_comes_from_what_the_name_and_description_say():
    cuisines = set(load_banks()["cuisine"])
    assert set(_draws({"type": "string"}, name="cuisine")) <= cuisines
    examples = _draws({"type": "string", "description": "The cell type, such as neuron or hepatocyte"}, name="cell_type")
    assert {"neuron", "hepatocyte"} & set(examples)
    assert described_examples("Cuisine (e.g. 'Italian', 'Thai')") == ["Italian", "Thai"]


def test_everyday_names_get_their_own_values_not_a_topic():
    # A hostile probe's list (2026-12-06): "climate change" as a zip code, "Chicago" as a phone number.
    banks = load_banks()
    for name, schema, bank in (("zip_code", {"type": "string"}, "postal_code"), ("phone", {"type": "string"}, "phone_number"),
                               ("first_name", {"type": "string"}, "first_name"), ("last_name", {"type": "string"}, "last_name"),
                               ("sku", {"type": "string"}, "sku"), ("tz", {"type": "string"}, "timezone"),
                               ("birth_date", {"type": "string", "format": "date"}, "birth_date"), ("reaction", {"type": "string"}, "emoji")):
        assert set(_draws(schema, name=name)) <= set(banks[bank]), name
    # A pattern the name's bank meets in another case, or a bank named like the parameter meets.
    assert set(_draws({"type": "string", "pattern": "^[a-z]{3}$"}, name="currency")) <= {c.lower() for c in banks["currency"]}
    assert set(_draws({"type": "string", "pattern": "^[A-Z]{2}$"}, name="country")) <= set(banks["country_code"])
    lat = _draws({"type": "number"}, name="lat") + _draws({"type": "number"}, name="latitude")
    assert all(-90 <= v <= 90 for v in lat) and all(-180 <= v <= 180 for v in _draws({"type": "number"}, name="lng"))
    assert any(v > 90 for v in _draws({"type": "integer"}, name="latency_ms", n=60))  # "lat" is a whole word only


def test_bounds_steps_refs_and_unions():
    assert all(v in range(8, 33, 2) for v in _draws({"type": "integer", "minimum": 8, "maximum": 32, "multipleOf": 2}, name="font_size"))
    assert all(0 < v < 1 for v in _draws({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}, name="ratio"))
    schema = {"type": "object", "$defs": {"Pt": {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}},
              "properties": {"at": {"$ref": "#/$defs/Pt"}}, "required": ["at"]}
    for value in _draws(schema, name="args"):
        assert isinstance(value["at"]["x"], int)
    nullable = _draws({"anyOf": [{"type": "string", "format": "email"}, {"type": "null"}]}, name="cc")
    assert all("@" in v for v in nullable)
    tags = _draws({"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 3, "uniqueItems": True}, name="labels")
    assert all(2 <= len(v) <= 3 and len(set(v)) == len(v) for v in tags)


def test_an_unsatisfiable_pattern_is_named():
    with pytest.raises(NoValue, match="pattern"):
        _draws({"type": "string", "pattern": "^(?=a)b$"}, name="code")


def _write_tools(tmp_path, tools):
    path = tmp_path / "tools.json"
    path.write_text(json.dumps(tools))
    return str(path)


def test_one_bad_tool_never_stops_the_run(tmp_path):
    """The run the issue saw stop: a `pattern` date in an ordinary schema, beside tools it cannot serve."""
    tools = [
        {"type": "function", "function": {"name": "reserve_room", "description": "Reserve a hotel room.", "parameters": {"type": "object", "properties": {
            "city": {"type": "string"}, "arrival": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}, "nights": {"type": "integer", "minimum": 1, "maximum": 30}},
            "required": ["city", "arrival", "nights"]}}},
        {"name": "lookup_order", "description": "Looks up an order.", "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}},
        {"name": "impossible", "description": "x", "parameters": {"type": "object", "properties": {"code": {"type": "string", "pattern": "^(?=a)b$"}}, "required": ["code"]}},
        {"name": "lookup_order", "description": "the same name again"},
        {"name": "", "description": "no name"},
    ]
    done = generate(GenerateConfig(n=40, eval_n=10, seed=1, tools_file=_write_tools(tmp_path, tools), eval_tools=["lookup_order"]), tmp_path / "out")
    assert validate_file(done.paths["train"]).ok and validate_file(done.paths["eval"]).ok
    assert set(done.skipped) == {"impossible", "lookup_order [3]", "[4]"}
    assert "pattern" in done.skipped["impossible"] and "unique" in done.skipped["lookup_order [3]"]
    assert done.rows["reserve_room"]["train"]["execute"] > 0 and "eval" in done.rows["lookup_order"]
    report = done.render()
    assert "impossible" in report and "skipped" in report and "reserve_room" in report
    requests = [r.user_prompt for r in read_records(done.paths["train"])]
    assert not any("reserve_room" in text for text in requests), "a request asks for something; it never names the function"


def test_mcp_tools_as_a_server_lists_them(tmp_path):
    # MCP names the schema inputSchema; a saved tools/list reply wraps the list in result.
    issue = {"name": "get_issue", "description": "Get a GitHub issue.", "inputSchema": {"type": "object", "properties": {
        "owner": {"type": "string"}, "repo": {"type": "string"}, "issue_number": {"type": "integer"}}, "required": ["owner", "repo", "issue_number"]}}
    weather = {"name": "get_weather", "description": "Get the weather for a city.", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
    reply = {"jsonrpc": "2.0", "id": 1, "result": {"tools": [issue, weather]}}
    done = generate(GenerateConfig(n=30, eval_n=5, tools_file=_write_tools(tmp_path, reply), eval_tools=["get_weather"]), tmp_path / "out")
    calls = [json.loads(r.ground_truth)[0] for r in read_records(done.paths["train"]) if r.behavior == "execute"]
    assert calls and all(set(c["arguments"]) == {"owner", "repo", "issue_number"} for c in calls)
    assert validate_file(done.paths["train"]).ok


def test_boolean_and_unsatisfiable_optional_properties_are_left_out_not_fatal(tmp_path):
    flags = {"name": "set_flags", "description": "Set flags on a record.", "parameters": {"type": "object", "required": ["city"], "properties": {
        "city": {"type": "string"}, "anything": True, "never": False, "seven": {"type": "integer", "const": "seven"}}}}
    weather = {"name": "get_weather", "description": "Get the weather for a city.", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
    done = generate(GenerateConfig(n=60, eval_n=5, tools_file=_write_tools(tmp_path, [flags, weather]), eval_tools=["get_weather"]), tmp_path / "out")
    calls = [json.loads(r.ground_truth)[0]["arguments"] for r in read_records(done.paths["train"]) if r.behavior == "execute"]
    assert calls and not any("never" in c or "seven" in c for c in calls) and any("anything" in c for c in calls)
    assert "set_flags" not in done.skipped


def test_a_skipped_tool_never_leaves_a_split_empty_and_a_failed_run_writes_nothing(tmp_path):
    weather = {"name": "get_weather", "description": "Get the weather for a city.", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
    bad = {"name": "bad", "description": "x", "parameters": {"type": "object", "properties": {"x": {"type": "integer", "minimum": 10, "maximum": 5}}, "required": ["x"]}}
    tools = _write_tools(tmp_path, [weather, bad])
    done = generate(GenerateConfig(n=20, eval_n=5, tools_file=tools), tmp_path / "out")  # the held-out pick comes from the tools that can be served
    assert "bad" in done.skipped and done.rows["get_weather"]["train"]
    with pytest.raises(ValueError, match="every tool --eval-tools names was skipped"):
        generate(GenerateConfig(n=20, eval_n=5, tools_file=tools, eval_tools=["bad"]), tmp_path / "out2")
    assert not (tmp_path / "out2" / "train.jsonl").exists()


def test_nothing_to_generate_is_the_only_error(tmp_path):
    tools = [{"name": "impossible", "description": "x", "parameters": {"type": "object", "properties": {"code": {"type": "string", "pattern": "^(?=a)b$"}}, "required": ["code"]}}]
    with pytest.raises(ValueError, match="impossible.*pattern"):
        generate(GenerateConfig(n=10, eval_n=0, tools_file=_write_tools(tmp_path, tools)), tmp_path / "out")
    assert load_user_tools(_write_tools(tmp_path, [{"name": 3}]))[1]["[0]"].startswith("tool [0]")


# -- any valid schema: hypothesis writes satisfiable JSON Schemas, every drawn row validates -------------
_PATTERNS = [r"^[A-Z]{3}$", r"^\d{4}-\d{2}-\d{2}$", r"^[a-z0-9_-]{3,16}$", r"^\+?[0-9]{7,15}$", r"^#[0-9a-fA-F]{6}$", r"^v\d+\.\d+\.\d+$"]
_FORMATS = ["date", "time", "date-time", "email", "uri", "uuid", "ipv4", "ipv6", "hostname"]
_NAMES = st.sampled_from(["city", "limit", "tags", "owner", "path", "query", "start_date", "amount", "x", "config", "items", "count", "color", "id"])


def _leaf() -> st.SearchStrategy[dict]:
    def bounded(kind):
        def build(lo, span, step):
            schema = {"type": kind, "minimum": lo, "maximum": lo + span}
            if step:
                # both bounds multiples of the step, so the range holds at least one
                schema.update(multipleOf=step, minimum=lo * step, maximum=(lo + span) * step)
            return schema
        return st.builds(build, st.integers(-50, 500), st.integers(0, 1000), st.sampled_from([None, None, 2, 5]))
    return st.one_of(
        st.just({"type": "string"}),
        st.builds(lambda lo, extra: {"type": "string", "minLength": lo, "maxLength": lo + extra}, st.integers(0, 8), st.integers(0, 40)),
        st.sampled_from(_PATTERNS).map(lambda p: {"type": "string", "pattern": p}),
        st.sampled_from(_FORMATS).map(lambda f: {"type": "string", "format": f}),
        st.lists(st.text("abcdefgh -", min_size=1, max_size=8), min_size=1, max_size=5, unique=True).map(lambda e: {"type": "string", "enum": e}),
        st.just({"type": "boolean"}), st.just({"type": "integer"}), st.just({"type": "number"}),
        bounded("integer"), bounded("number"),
        st.builds(lambda v: {"const": v}, st.one_of(st.integers(), st.text(max_size=5))),
        st.builds(lambda s: {"anyOf": [s, {"type": "null"}]}, st.sampled_from([{"type": "string"}, {"type": "integer", "minimum": 0}])),
        st.just({"type": ["string", "null"]}),
    )


_SCHEMAS = st.recursive(
    _leaf(),
    lambda inner: st.one_of(
        st.builds(lambda items, lo, extra: {"type": "array", "items": items, "minItems": lo, "maxItems": lo + extra}, inner, st.integers(0, 3), st.integers(0, 4)),
        st.dictionaries(_NAMES, inner, min_size=1, max_size=4).flatmap(
            lambda props: st.lists(st.sampled_from(sorted(props)), unique=True).map(lambda req: {"type": "object", "properties": props, "required": req})),
    ),
    max_leaves=8,
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(props=st.dictionaries(_NAMES, _SCHEMAS, min_size=1, max_size=5), seed=st.integers(0, 2**16))
def test_every_drawn_argument_validates_for_any_schema(props, seed):
    params = {"type": "object", "properties": props, "required": sorted(props)[:2]}
    Draft202012Validator.check_schema(params)
    rng = random.Random(seed)
    for name, schema in props.items():
        value = draw(name, schema, rng, load_banks(), root=params)  # satisfiable by construction: must not raise
        assert Draft202012Validator(schema).is_valid(value), (name, schema, value)


def test_a_request_asks_for_the_thing_the_tool_does():
    from tooltune.data.catalog import _derived_intents
    from tooltune.data.generate import _RowMaker
    from tooltune.schema import Tool

    # A verb the list lacks is still a verb when name and description both start with it.
    assert _derived_intents(Tool(name="register_user", description="Registers a new user account.")) == ["register a new user account", "register user"]
    # The name as a thing to look up only when nothing reads better.
    assert _derived_intents(Tool(name="pick_country", description="Selects a country code.")) == ["select a country code"]
    # A noun the name and description share is no verb; an ambiguous verb inside a name strips nothing.
    assert _derived_intents(Tool(name="weather_forecast", description="Weather forecast for a city.")) == ["look up the weather forecast"]
    assert _derived_intents(Tool(name="firecrawl_monitor_create", description="Create a monitor.")) == ["create a monitor"]
    assert _derived_intents(Tool(name="plain_tool")) == ["look up the plain tool"]
    # Public MCP descriptions (tests/fixtures/public_tools): a long first sentence's first clause, an
    # adverb before the verb, "Perform(s)" as "do" (or the verb it names), developer verbs.
    assert _derived_intents(Tool(name="lighthouse_audit", description="Get Lighthouse scores, failing audits, and the DOM nodes they flag for accessibility, SEO, best practices, and more on the page.")) == ["get Lighthouse scores"]
    assert _derived_intents(Tool(name="firecrawl_monitor_delete", description="Permanently delete a monitor and stop its schedule. This cannot be undone.")) == ["delete a monitor and stop its schedule"]
    assert _derived_intents(Tool(name="brave_web_search", description="Performs a web search using the Brave Search API, ideal for general queries, news, articles, and online content.")) == ["do a web search using the Brave Search API"]
    assert _derived_intents(Tool(name="browser_click", description="Perform click on a web page"))[0] == "click on a web page"
    assert _derived_intents(Tool(name="git_reset", description="Unstages all staged changes"))[0] == "unstage all staged changes"
    assert _derived_intents(Tool(name="cleanup", description="Cleanup all managed resources")) == ["clean up all managed resources"]
    assert _derived_intents(Tool(name="fork_repository", description="Fork a GitHub repository to your account"))[0] == "fork a GitHub repository to my account"
    assert _derived_intents(Tool(name="create_event", description="Add an event to the user's calendar"))[0] == "add an event to my calendar"
    assert _derived_intents(Tool(name="ship_package"))[0] == "ship package"
    # Nested values keep their shape; null is said as a word.
    assert _RowMaker._render([[37, 10], [8, 5]]) == "[37, 10], [8, 5]"
    assert _RowMaker._render({"a": {"b": 7}, "level": None}) == "a (b 7), level none"


@pytest.mark.parametrize("schema", [
    {"type": "number", "minimum": 0.001, "maximum": 0.002},  # narrower than one decimal
    {"type": "number", "maximum": -1e-9},  # only an upper bound, below zero
    {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 0.01},
    {"type": "string", "enum": ["a", 1, None]},  # one enum value fits the type
])
def test_narrow_or_odd_schemas_that_can_be_met_are_met(schema):
    assert all(Draft202012Validator(schema).is_valid(v) for v in _draws(schema))


def test_a_schemas_examples_and_an_ex_dot_hint_are_used():
    assert set(_draws({"type": "string", "examples": ["Berlin", "Oslo"]}, name="ville")) <= {"Berlin", "Oslo"}
    assert set(_draws({"type": "string", "description": "Ville, ex. 'Lyon'"}, name="ville")) == {"Lyon"}
    assert "Matches whole lines" not in _draws({"type": "string", "description": "Search pattern, as a regex. Matches whole lines"}, name="query")


def test_what_developer_tools_take_gets_its_own_values():
    # Seen in public MCP tool lists (tests/fixtures/public_tools): a commit "sha" drawn as a file path,
    # an element "uid" as an email body, crawler "instructions" as a language, "page: 3.2".
    banks = load_banks()
    for name, description, bank in (
        ("sha", "", "commit_sha"), ("commit_id", "The SHA of the commit that needs a review", "commit_sha"),
        ("expected_head_sha", "The expected SHA of the pull request's HEAD ref", "commit_sha"),
        ("selector", "CSS selector for element to click", "css_selector"), ("labelSelector", "Filter resources by label selector", "label_selector"),
        ("uid", "The uid of an element on the page from the page content snapshot", "element_ref"),
        ("start_cursor", "If supplied, this endpoint will return a page of results starting after this cursor", "cursor"),
        ("instructions", "Natural language instructions for the crawler", "instruction"), ("prompt", "", "instruction"),
        ("context", "Kubeconfig Context to use for the command", "kube_context"), ("q", "", "search_query"),
        ("contentType", "Optional MIME type override", "mime_type"),
        ("name", "Repository name", "repository"),  # the description says what a generic "name" is
    ):
        assert set(_draws({"type": "string", "description": description}, name=name)) <= set(banks[bank]), name
    # The tool's name tells a directory from a file, and a path from nothing at all.
    rng = random.Random(0)
    assert all(draw("path", {"type": "string"}, rng, banks, tool="list_directory") in banks["directory_path"] for _ in range(10))
    assert all(draw("path", {"type": "string"}, rng, banks, tool="read_file") in banks["file_path"] for _ in range(10))
    assert all(draw(side, {"type": "string"}, rng, banks, tool="move_file") in banks["file_path"] for side in ("source", "destination") for _ in range(10))
    assert all(draw("destination", {"type": "string"}, rng, banks, tool="maps_directions") in banks["city"] for _ in range(10))
    # ... and what an everyday word is for: an issue's title, a commit's message
    assert all(draw("title", {"type": "string"}, rng, banks, tool="create_issue") in banks["issue_title"] for _ in range(10))
    assert all(draw("message", {"type": "string", "description": "Commit message"}, rng, banks, tool="git_commit") in banks["commit_message"] for _ in range(10))
    assert all(draw("title", {"type": "string"}, rng, banks, tool="create_event") in banks["event_title"] for _ in range(10))
    # Counts and ids typed "number" are whole; a latitude is not.
    for name in ("page", "per_page", "pageId", "count", "pull_number", "limit"):
        assert all(float(v).is_integer() for v in _draws({"type": "number"}, name=name, n=40)), name
    assert not all(float(v).is_integer() for v in _draws({"type": "number"}, name="latitude", n=40))


def test_a_descriptions_examples_are_values_not_forms_and_beat_a_word_it_mentions():
    assert described_examples("Type of resource (e.g., pods, deployments, services, etc.)") == ["pods", "deployments", "services"]
    assert described_examples("Required to be written in the format YYYY-MM-DD.") == []  # a form, not a value
    assert described_examples("The timestamp in the format '1234567890.123456'.") == ["1234567890.123456"]
    # a bank a word of the description names ("resource", "containers") gives way to its examples
    values = _draws({"type": "string", "description": "Resource name to explain (e.g. pods, deployments, pods.spec.containers)"}, name="kind")
    assert set(values) == {"pods", "deployments", "pods.spec.containers"}


def test_a_teams_own_tools_get_values_and_ranges_of_their_kind(tmp_path):
    """What a hostile probe with its own SaaS, DevOps and assistant tools found (2026-12-07)."""
    from datetime import date, datetime

    from tooltune.data.surface import family_of

    banks = load_banks()
    assert described_examples("Specific version to roll back to, e.g. v1.9.0; default: previous") == ["v1.9.0"]
    # one example is not every row's value: its digits are drawn afresh, within the pattern
    ids = _draws({"type": "string", "pattern": "^cus_[A-Za-z0-9]{8,}$", "description": "Customer ID, e.g. cus_9s8Df7Gh"}, name="customer_id", n=40)
    assert len(set(ids)) >= 8 and all(re.fullmatch(r"cus_\ds\dDf\dGh", v) for v in ids)
    times = _draws({"type": "string", "description": "24h local time, e.g. 19:30"}, name="time", n=40)
    assert "19:30" in times and all(re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", t) for t in times)  # a time's digits are not redrawn
    assert set(_draws({"type": "string", "description": "Record value: an IPv4/IPv6 address, hostname or text"}, name="value")) <= set(banks["ip_address"])
    assert set(_draws({"type": "string"}, name="service")) <= set(banks["service_name"])
    assert all(v <= 12 for v in _draws({"type": "integer", "minimum": 1, "maximum": 20}, name="party_size"))
    # an amount in cents is never said as money ("$17" would be 1700 of them)
    assert family_of("amount", {"type": "integer", "description": "Amount to refund in cents"}) is None
    tools = [
        {"type": "function", "function": {"name": "create_calendar_event", "description": "Create an event on the user's calendar.", "parameters": {"type": "object", "properties": {
            "title": {"type": "string"}, "start": {"type": "string", "format": "date-time"}, "end": {"type": "string", "format": "date-time"},
            "attendees": {"type": "array", "items": {"type": "string", "format": "email"}, "description": "Invitee email addresses"}}, "required": ["title", "start", "end", "attendees"]}}},
        {"type": "function", "function": {"name": "get_metrics", "description": "Fetch a metric's time series.", "parameters": {"type": "object", "properties": {
            "metric": {"type": "string"}, "range": {"type": "object", "properties": {"from": {"type": "string", "format": "date-time"}, "to": {"type": "string", "format": "date-time"}}, "required": ["from", "to"]}},
            "required": ["metric", "range"]}}},
        {"type": "function", "function": {"name": "list_invoices", "description": "List invoices.", "parameters": {"type": "object", "properties": {
            "created_after": {"type": "string", "format": "date"}, "created_before": {"type": "string", "format": "date"}}, "required": ["created_after", "created_before"]}}},
    ]
    (tmp_path / "tools.json").write_text(json.dumps(tools))
    paths = generate(GenerateConfig(n=120, eval_n=20, seed=3, tools_file=tmp_path / "tools.json", eval_tools=["list_invoices"]), tmp_path / "out").paths
    rows = read_records(paths["train"]) + read_records(paths["eval"])
    stamp = lambda v: datetime.fromisoformat(v.replace("Z", "+00:00"))  # noqa: E731
    seen = set()
    for record in rows:
        if record.behavior == "clarify":
            assert not re.match(r"(I can help with that|Sure!|Happy to help)\. (Happy to help|Sure)", record.ground_truth)  # one opener
            assert "attendees" not in record.ground_truth  # asked by its description: "invitee email addresses"
            continue
        for call in json.loads(record.ground_truth) if record.behavior == "execute" else []:
            a = call["arguments"]
            seen.add(call["name"])
            if call["name"] == "create_calendar_event":
                assert 0 < (stamp(a["end"]) - stamp(a["start"])).total_seconds() <= 3 * 3600
            if call["name"] == "get_metrics":
                assert 0 < (stamp(a["range"]["to"]) - stamp(a["range"]["from"])).total_seconds() <= 3 * 3600
            if call["name"] == "list_invoices":
                assert 1 <= (date.fromisoformat(a["created_before"]) - date.fromisoformat(a["created_after"])).days <= 14
    assert seen == {"create_calendar_event", "get_metrics", "list_invoices"}
    assert not any("the user's" in r.user_prompt for r in rows)


def test_the_report_notes_tools_without_a_description_or_with_an_odd_name(tmp_path):
    weather = {"name": "get_weather", "description": "Get the weather for a city.", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
    bare = {"name": "lookup_order", "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}}
    odd = {"name": "send note!", "description": "Send a note.", "parameters": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}}
    done = generate(GenerateConfig(n=40, eval_n=10, seed=1, tools_file=_write_tools(tmp_path, [weather, bare, odd]), eval_tools=["get_weather"]), tmp_path / "out")
    report = done.render()
    assert "note: lookup_order has no description" in report and "note: send note!: most function-calling APIs" in report
    assert "get_weather has" not in report and "get_weather:" not in report


def test_a_fifth_of_a_users_tools_rounded_is_held_out(tmp_path):
    tools = [{"name": f"get_{w}", "description": f"Get the {w} of a city.", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
             for w in ("weather", "time", "population", "mayor", "area", "timezone", "currency", "airport", "elevation")]
    train, held, _ = GenerateConfig(n=40, eval_n=10, tools_file=_write_tools(tmp_path, tools)).catalogs()
    assert len(held) == 2 and len(train) == 7  # 9 / 5 = 1.8: two, so eval.jsonl is not one tool's rows


def test_a_second_probes_tools_get_values_of_their_scale_and_kind():
    """A second hostile probe (e-commerce, HR, smart home, analytics; 2026-12-07)."""
    banks = load_banks()
    # a description's lead words and advice are no values; code is not cut at its commas
    assert described_examples("SQL LIKE pattern on the table name, e.g. fct_%") == ["fct_%"]
    assert described_examples("Device ID, e.g. thermostat.hall; omit for whole home") == ["thermostat.hall"]
    assert described_examples("The SQL statement, e.g. SELECT country, COUNT(*) FROM users GROUP BY 1") == []
    # a pattern the format's bank cannot meet takes the description's example, not the bare prefix
    uris = _draws({"type": "string", "format": "uri", "pattern": "^s3://", "description": "S3 URI prefix, e.g. s3://acme-data-exports/daily/"}, name="destination_uri")
    assert set(uris) == {"s3://acme-data-exports/daily/"}
    # a number near the description's own, not at the minimum; cents are cents of a price
    salaries = _draws({"type": "integer", "minimum": 10000, "maximum": 1000000, "description": "Annual base salary, e.g. 145000"}, name="base_salary", n=40)
    assert sum(v >= 50000 for v in salaries) > 12  # before: none (10000-10500)
    assert all(v >= 99 for v in _draws({"type": "integer", "minimum": 1}, name="price_cents"))
    # an id-like example with a year in it is varied too; a tracking number is no song
    ids = _draws({"type": "string", "description": "Order ID, e.g. ORD-2024-00123"}, name="order_id", n=40)
    shaped = [v for v in ids if v.startswith("ORD-")]  # the rest from the order-id bank the name chose
    assert len(set(shaped)) > 10 and all(re.fullmatch(r"ORD-\d{4}-\d{5}", v) for v in shaped)
    assert set(_draws({"type": "string"}, name="tracking_number")) <= set(banks["tracking_number"])
    assert set(_draws({"type": "string"}, name="job_title")) <= set(banks["job_title"])


def test_held_out_schemas_findings_a_number_is_an_id_and_a_year_stays():
    """From a blind audit on tool lists written for it and never used to tune (clinic, LMS, accounting, dispatch)."""
    banks = load_banks()
    assert set(_draws({"type": "string"}, name="invoice_number")) <= set(banks["identifier"])  # was a topic ("nutrition")
    assert set(_draws({"type": "string"}, name="phone_number")) <= set(banks["phone_number"])  # its own word still first
    terms = _draws({"type": "string", "pattern": r"^(FA|SP|SU)\d{4}$", "description": "Term code, e.g. SP2026"}, name="term")
    assert set(terms) == {"SP2026"}  # a year is not redrawn into "SP8764"


def test_a_work_tools_reasons_and_notes_are_work_notes():
    banks = load_banks()
    rng = random.Random(0)
    for name, description in (("reason", "Why the appointment is moved"), ("internal_note", "Private note visible only to agents"), ("notes", ""), ("memo", "")):
        assert all(draw(name, {"type": "string", "description": description}, rng, banks, tool="update_ticket") in banks["work_note"] for _ in range(5)), name
    assert all(v <= 240 for v in _draws({"type": "integer"}, name="extra_time_minutes", n=40))  # not 389 extra minutes


def test_a_verb_file_makes_no_file_tool_and_merge_tags_no_pull_request():
    """From a second set of tool lists nothing was tuned on (claims, real estate, POS, marketing)."""
    banks = load_banks()
    rng = random.Random(0)
    assert all(draw("city", {"type": "string"}, rng, banks, tool="file_first_notice_of_loss") in banks["city"] for _ in range(10))
    body = {"type": "string", "description": "Full HTML. Merge tags use {{first_name}} syntax."}
    assert not any(draw("html_body", body, rng, banks, tool="create_email") in banks["issue_body"] for _ in range(10))
    assert all(draw("body", {"type": "string"}, rng, banks, tool="merge_pull_request") in banks["issue_body"] for _ in range(10))

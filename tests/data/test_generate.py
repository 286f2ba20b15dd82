import json
import re

import pytest

from tooltune.data import read_records, validate_file
from tooltune.data.catalog import humanize, load_banks, load_catalog, load_refusals
from tooltune.data.generate import GenerateConfig, exact_counts, generate
from tooltune.data.stats import compute_stats
from tooltune.data.validate import argument_problems
from tooltune.schema import parse_tool_calls, render_system_prompt
from tooltune.schema.tools import SYSTEM_PROMPT_RULES

REFERENCE_TRAIN = {"get_weather_forecast", "search_flights", "translate_text", "currency_convert", "get_statistics"}
REFERENCE_EVAL = {"search_restaurants", "get_stock_price", "calculate_standard_deviation"}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen")
    paths = generate(GenerateConfig(n=1500, eval_n=300, seed=0), out).paths
    return paths, read_records(paths["train"]), read_records(paths["eval"])


# ---------------------------------------------------------------- catalogs
def test_catalog_sizes_and_reference_tools():
    train = {t.name for t in load_catalog("train")}
    held = {t.name for t in load_catalog("eval")}
    assert REFERENCE_TRAIN <= train and len(train) >= 45
    assert REFERENCE_EVAL <= held and len(held) >= 10


def _tokens(text):
    return {w for w in re.split(r"[_\W]+", text.lower()) if len(w) > 3}


def test_no_eval_tool_or_near_duplicate_in_training():
    train, held = load_catalog("train"), load_catalog("eval")
    for e in held:
        for t in train:
            assert e.name != t.name
            name_overlap = len(_tokens(e.name) & _tokens(t.name)) / max(1, len(_tokens(e.name) | _tokens(t.name)))
            desc_overlap = len(_tokens(e.tool.description) & _tokens(t.tool.description)) / max(1, len(_tokens(e.tool.description) | _tokens(t.tool.description)))
            same_params = set(e.tool.properties) == set(t.tool.properties)
            assert name_overlap < 0.5, (e.name, t.name)
            assert desc_overlap < 0.5, (e.name, t.name, desc_overlap)
            assert not (same_params and desc_overlap > 0.3), (e.name, t.name)


def test_catalog_covers_every_parameter_type():
    types = set()

    def walk(schema):
        kind = schema.get("type")
        types.add("enum" if "enum" in schema else kind)
        for sub in (schema.get("properties") or {}).values():
            walk(sub)
        if isinstance(schema.get("items"), dict):
            walk(schema["items"])

    for ct in load_catalog("train"):
        for sub in ct.tool.properties.values():
            walk(sub)
    assert {"string", "number", "integer", "boolean", "enum", "array", "object"} <= types


@pytest.mark.parametrize("split", ["train", "eval"])
def test_catalog_hints_are_consistent(split):
    banks = load_banks()
    for ct in load_catalog(split):
        props = ct.tool.properties
        assert ct.intents, ct.name
        for template in ct.templates:
            names = set(re.findall(r"\{(\w+)\}", template))
            assert names <= set(props), (ct.name, template)
            assert set(ct.tool.required) <= names, (ct.name, template)
        for name in ct.tool.required:
            assert name in ct.ask, (ct.name, name)
        for name, spec in ct.values.items():
            assert name in props, (ct.name, name)
            options = banks[spec[1:]] if isinstance(spec, str) else spec
            assert options, (ct.name, name)
            for value in options:
                assert not argument_problems(ct.tool.__class__(ct.name, "", {"type": "object", "properties": {name: props[name]}}), {name: value}), (ct.name, name, value)


def test_refusal_kinds_are_disjoint_between_splits():
    refusals = load_refusals()
    assert not set(refusals["harmful"]["train"]) & set(refusals["harmful"]["eval"])
    assert len(refusals["harmful"]["train"]) >= 8
    assert not set(refusals["out_of_scope"]["train"]) & set(refusals["out_of_scope"]["eval"])


# ---------------------------------------------------------------- generator
def test_exact_counts():
    assert exact_counts(1500, (0.6, 0.25, 0.15)) == {"execute": 900, "clarify": 375, "refuse": 225}
    assert sum(exact_counts(7, (0.6, 0.25, 0.15)).values()) == 7


def test_mix_is_exact_and_prompts_unique(generated):
    _, train, held = generated
    assert len(train) == 1500 and len(held) == 300
    assert [sum(r.behavior == b for r in train) for b in ("execute", "clarify", "refuse")] == [900, 375, 225]
    assert [sum(r.behavior == b for r in held) for b in ("execute", "clarify", "refuse")] == [180, 75, 45]
    prompts = [" ".join(r.user_prompt.lower().split()) for r in train + held]
    assert len(prompts) == len(set(prompts))


def test_held_out_guarantees(generated):
    _, train, held = generated
    eval_names = {t.name for t in load_catalog("eval")}
    for record in train:
        assert not {t.name for t in record.tools} & eval_names
        assert not any(name in record.system_prompt for name in eval_names)
    assert {r.raw["extra_info"]["tool"] for r in held if r.behavior == "execute"} <= eval_names
    train_frames = {r.raw["extra_info"].get("frame") for r in train} - {"template", None}
    eval_frames = {r.raw["extra_info"].get("frame") for r in held} - {"template", None}
    assert not train_frames & eval_frames
    train_kinds = {r.raw["extra_info"].get("category") for r in train} - {None}
    eval_kinds = {r.raw["extra_info"].get("category") for r in held} - {None}
    assert train_kinds and eval_kinds and not train_kinds & eval_kinds


def test_every_row_is_schema_valid_and_well_formed(generated):
    paths, train, held = generated
    assert validate_file(paths["train"]).ok
    assert validate_file(paths["eval"]).ok
    for record in train + held:
        assert record.system_prompt == render_system_prompt(record.tools)
        assert record.system_prompt.endswith(SYSTEM_PROMPT_RULES)
        assert 1 <= len(record.tools) <= 4
        if record.behavior == "execute":
            calls = parse_tool_calls(record.ground_truth)
            assert len(calls) == 1 and calls[0].name in {t.name for t in record.tools}
            tool = next(t for t in record.tools if t.name == calls[0].name)
            assert not argument_problems(tool, calls[0].arguments)
        else:
            assert parse_tool_calls(record.ground_truth) is None


def test_clarify_rows_really_omit_a_required_argument(generated):
    _, train, held = generated
    for record in (r for r in train + held if r.behavior == "clarify"):
        extra = record.raw["extra_info"]
        tool = next(t for t in record.tools if t.name == extra["tool"])
        assert extra["missing"][0] in tool.required
        assert record.ground_truth.strip()


def test_deterministic_for_a_seed(tmp_path):
    a = generate(GenerateConfig(n=60, eval_n=20, seed=3), tmp_path / "a").paths
    b = generate(GenerateConfig(n=60, eval_n=20, seed=3), tmp_path / "b").paths
    c = generate(GenerateConfig(n=60, eval_n=20, seed=4), tmp_path / "c").paths
    assert a["train"].read_text() == b["train"].read_text() and a["eval"].read_text() == b["eval"].read_text()
    assert a["train"].read_text() != c["train"].read_text()


def test_pairs_give_each_clarify_row_its_execute_twin(tmp_path):
    plain = generate(GenerateConfig(n=200, eval_n=40, seed=5), tmp_path / "plain").paths
    paths = generate(GenerateConfig(n=200, eval_n=40, seed=5, pairs=1.0), tmp_path / "pairs").paths
    train = read_records(paths["train"])
    assert paths["eval"].read_text() == plain["eval"].read_text()  # the held-out set never changes
    assert [sum(r.behavior == b for r in train) for b in ("execute", "clarify", "refuse")] == [120, 50, 30]
    groups: dict[int, list] = {}
    for record in train:
        if "pair" in record.raw["extra_info"]:
            groups.setdefault(record.raw["extra_info"]["pair"], []).append(record)
    assert all(len(g) == 2 for g in groups.values())
    pairs = [sorted(g, key=lambda r: r.behavior) for g in groups.values()]
    asks = [(a, b) for a, b in pairs if a.behavior == "clarify"]
    not_offered = [(b, a) for a, b in pairs if b.behavior == "refuse"]
    assert len(asks) >= 45 and not_offered and len(asks) + len(not_offered) == len(pairs)
    for ask, call in asks:
        assert call.behavior == "execute"
        assert ask.system_prompt == call.system_prompt  # same tools, same order
        missing = ask.raw["extra_info"]["missing"][0]
        [called] = parse_tool_calls(call.ground_truth)
        assert called.name == ask.raw["extra_info"]["tool"]
        assert called.arguments == {**ask.raw["extra_info"]["arguments"], missing: called.arguments[missing]}
        decoy = ask.raw["extra_info"].get("vague")
        if decoy:  # a vague stand-in holds the missing value's place; the twin says the value
            assert decoy in ask.user_prompt and ask.user_prompt != call.user_prompt
            continue
        # The twin's sentence is the clarify sentence with the missing value's phrase added.
        words, twin_words = ask.user_prompt.split(), call.user_prompt.split()
        assert len(twin_words) > len(words) and set(words) - {w.rstrip(",.?!") for w in twin_words} <= {w for w in words if w[-1:] in ",.?!"}
    for refuse, call in not_offered:
        assert refuse.raw["extra_info"]["kind"] == "tool_not_offered" and call.behavior == "execute"
        assert refuse.user_prompt == call.user_prompt
        target = refuse.raw["extra_info"]["tool"]
        assert [t.name for t in call.tools if t.name != target] == [t.name for t in refuse.tools]
        assert parse_tool_calls(call.ground_truth)[0].name == target
    assert validate_file(paths["train"]).ok
    with pytest.raises(ValueError, match="between 0 and 1"):
        GenerateConfig(pairs=1.5)


def test_refuse_kinds_shift_training_refusals_and_leave_eval_alone(tmp_path):
    from collections import Counter

    plain = generate(GenerateConfig(n=400, eval_n=60, seed=2), tmp_path / "plain").paths
    paths = generate(GenerateConfig(n=400, eval_n=60, seed=2, refuse_kinds=(0.0, 0.2, 0.8)), tmp_path / "kinds").paths
    assert paths["eval"].read_text() == plain["eval"].read_text()  # held-out scores stay comparable
    kinds = {name: Counter(r.raw["extra_info"]["kind"] for r in read_records(p["train"]) if r.behavior == "refuse") for name, p in (("plain", plain), ("kinds", paths))}
    assert sum(kinds["kinds"].values()) == sum(kinds["plain"].values()) == 60  # the mix is untouched
    assert kinds["kinds"]["harmful"] == 0 and kinds["kinds"]["tool_not_offered"] > 2 * kinds["plain"]["tool_not_offered"]
    with pytest.raises(ValueError, match="sum to 1"):
        GenerateConfig(refuse_kinds=(0.5, 0.5, 0.5))


def test_near_refusals_list_a_same_domain_tool_and_never_the_requested_one(tmp_path):
    domain = {t.name: t.domain for t in load_catalog("train")}
    plain = generate(GenerateConfig(n=400, eval_n=40, seed=3, pairs=1.0, rows_per_list=4, refuse_kinds=(0.0, 0.0, 1.0)), tmp_path / "plain").paths
    paths = generate(GenerateConfig(n=400, eval_n=40, seed=3, pairs=1.0, rows_per_list=4, refuse_kinds=(0.0, 0.0, 1.0), near_refusals=1.0), tmp_path / "near").paths
    assert paths["eval"].read_text() == plain["eval"].read_text()  # held-out scores stay comparable

    def refusals(path):
        return [r for r in read_records(path) if r.raw["extra_info"].get("kind") == "tool_not_offered"]

    near = refusals(paths["train"])
    assert len(near) == len(refusals(plain["train"])) == 60
    for record in near:
        names, extra = [t.name for t in record.tools], record.raw["extra_info"]
        assert extra["tool"] not in names
        crowded = sum(domain[n] == domain[extra["tool"]] for n in domain) > 1
        assert (extra.get("near") in names and domain[extra["near"]] == domain[extra["tool"]]) if crowded else "near" not in extra
    # without it, the domain of the requested tool is absent unless a shared list brings it in
    share = lambda rows: sum(any(domain[t.name] == domain[r.raw["extra_info"]["tool"]] for t in r.tools) for r in rows) / len(rows)
    assert share(near) > 0.9 > 0.5 > share(refusals(plain["train"]))
    assert validate_file(paths["train"]).ok


def test_harmful_uses_ask_a_listed_tool_to_do_the_harm(tmp_path):
    uses = load_refusals()["harmful_uses"]["train"]
    assert not load_refusals()["harmful_uses"]["eval"] and len(uses) >= 20 and set(uses) <= {t.name for t in load_catalog("train")}
    plain = generate(GenerateConfig(n=400, eval_n=40, seed=4, pairs=1.0, rows_per_list=4, refuse_kinds=(1.0, 0.0, 0.0)), tmp_path / "plain").paths
    paths = generate(GenerateConfig(n=400, eval_n=40, seed=4, pairs=1.0, rows_per_list=4, refuse_kinds=(1.0, 0.0, 0.0), harmful_uses=1.0), tmp_path / "uses").paths
    assert paths["eval"].read_text() == plain["eval"].read_text()
    train = read_records(paths["train"])
    harmful = [r for r in train if r.behavior == "refuse"]
    assert len(harmful) == 60
    twins = {r.raw["extra_info"]["pair"]: r for r in train if r.behavior == "execute" and "pair" in r.raw["extra_info"]}
    paired = 0
    for record in harmful:
        extra = record.raw["extra_info"]
        assert extra["kind"] == "harmful" and extra["category"] == "harmful_use"
        assert extra["tool"] in [t.name for t in record.tools]  # the tool that would do the harm is right there
        assert any(request.rstrip(".") in record.user_prompt for request in uses[extra["tool"]])
        if "pair" in extra:  # its twin: a harmless call of the same tool (lists are shared by rows_per_list)
            twin = twins[extra["pair"]]
            assert extra["tool"] in [t.name for t in twin.tools] and twin.user_prompt != record.user_prompt
            assert [c.name for c in parse_tool_calls(twin.ground_truth)] == [extra["tool"]]
            paired += 1
    assert paired >= 50  # a twin that would repeat a prompt, or finds no execute slot after it, is dropped
    assert validate_file(paths["train"]).ok


def test_backstories_tell_harmless_requests_beside_the_people_harmful_ones_name(tmp_path):
    from tooltune import reading
    from tooltune.data.phrasing import BACKSTORIES

    for line in BACKSTORIES:  # a line states no value a tool could take ("a bit" reads as 1, no more)
        assert not any(reading.values_in([line], family) for family in reading.SPANNED), line
        assert set(reading.numbers_in([line])) <= {"1", "-1"} and reading.currency_in([line]) is None, line
    config = dict(n=600, eval_n=40, seed=5, pairs=1.0, rows_per_list=4, harmful_uses=0.5)
    plain = generate(GenerateConfig(**config), tmp_path / "plain").paths
    paths = generate(GenerateConfig(**config, backstories=0.5), tmp_path / "told").paths
    assert paths["eval"].read_text() == plain["eval"].read_text()
    before, told = read_records(plain["train"]), read_records(paths["train"])
    # The same rows in the same order, about half of the requests that harm no one told after a line.
    assert [(r.ground_truth, r.behavior, r.raw["tools"]) for r in told] == [(r.ground_truth, r.behavior, r.raw["tools"]) for r in before]
    lines: dict[int, list[str]] = {}
    for old, new in zip(before, told):
        if new.user_prompt == old.user_prompt:
            continue
        assert old.raw["extra_info"].get("kind") != "harmful"
        line = new.user_prompt[: -len(old.user_prompt) - 1]
        assert line in BACKSTORIES and new.user_prompt == f"{line} {old.user_prompt}"
        enums = {str(v).lower() for tool in new.tools for p in tool.properties.values() for v in p.get("enum", [])}
        assert not set(re.findall(r"\w+", line.lower())) & enums  # "out sick" never beside leave_type sick
        lines.setdefault(old.raw["extra_info"].get("pair", id(old)), []).append(line)
    harmless = [r for r in before if r.raw["extra_info"].get("kind") != "harmful"]
    assert 0.4 < sum(map(len, lines.values())) / len(harmless) < 0.6
    twins = [told for told in lines.values() if len(told) == 2]
    assert twins and sum(a == b for a, b in twins) / len(twins) > 0.8  # a clarify row and its twin: one line, mostly
    assert validate_file(paths["train"]).ok


def test_rows_per_list_gives_consecutive_rows_one_tool_list_that_keeps_every_answer_right(tmp_path):
    from collections import defaultdict

    pairs = generate(GenerateConfig(n=300, eval_n=40, seed=6, pairs=1.0), tmp_path / "pairs").paths
    paths = generate(GenerateConfig(n=300, eval_n=40, seed=6, pairs=1.0, rows_per_list=4), tmp_path / "lists").paths
    assert paths["eval"].read_text() == pairs["eval"].read_text()
    before, train = read_records(pairs["train"]), read_records(paths["train"])
    # Only the tool lists changed: the same requests, answers and mix in the same order.
    assert [(r.user_prompt, r.ground_truth, r.behavior) for r in train] == [(r.user_prompt, r.ground_truth, r.behavior) for r in before]
    lists: dict[int, list] = defaultdict(list)
    for record in train:
        lists[record.raw["extra_info"]["list"]].append(record)
        names = [t.name for t in record.tools]
        extra = record.raw["extra_info"]
        if extra.get("kind") == "tool_not_offered":
            assert extra["tool"] not in names  # still a request for a tool the row lacks
        elif extra.get("tool"):
            assert extra["tool"] in names
        assert all(call.name in names for call in parse_tool_calls(record.ground_truth) or [])
        assert 1 <= len(names) <= 4
    assert all(len(rows) <= 4 and len({r.system_prompt for r in rows}) == 1 for rows in lists.values())
    assert len(lists) < 0.35 * len(train)  # most lists serve several rows
    twins: dict[int, set] = defaultdict(set)
    for record in train:
        if record.behavior != "refuse" and "pair" in record.raw["extra_info"]:
            twins[record.raw["extra_info"]["pair"]].add(record.raw["extra_info"]["list"])
    asks = [p for p in twins if any(r.raw["extra_info"].get("pair") == p and r.behavior == "clarify" for r in train)]
    assert asks and all(len(twins[p]) == 1 for p in asks)  # a clarify row and its twin share their list
    assert validate_file(paths["train"]).ok
    with pytest.raises(ValueError, match="rows-per-list"):
        GenerateConfig(rows_per_list=0)


def test_phrasing_variety(generated):
    paths, train, _ = generated
    stats = compute_stats(paths["train"])
    assert len(stats.shapes) > 600  # far more sentence shapes than a handful of templates
    assert {r.raw["extra_info"]["style"] for r in train} == {"formal", "casual", "terse"}
    assert len(stats.tools_called) >= 45


def test_bad_mix_says_how_to_fix():
    with pytest.raises(ValueError, match="sum to 1"):
        GenerateConfig(mix=(0.5, 0.5, 0.5))


def test_user_tools_with_eval_split(tmp_path):
    tools = [
        {"type": "function", "function": {"name": "create_ticket", "description": "Create a support ticket.", "parameters": {"type": "object", "properties": {"title": {"type": "string"}, "priority": {"type": "string", "enum": ["low", "high"]}}, "required": ["title", "priority"]}}},
        {"name": "lookup_order", "description": "Look up an order by its number.", "parameters": {"type": "object", "properties": {"order_number": {"type": "integer", "minimum": 1000, "maximum": 9999}}, "required": ["order_number"]}},
        {"name": "refund_order", "description": "Refund an order.", "parameters": {"type": "object", "properties": {"order_number": {"type": "integer"}, "reason": {"type": "string"}}, "required": ["order_number"]}},
    ]
    path = tmp_path / "tools.json"
    path.write_text(json.dumps(tools))
    paths = generate(GenerateConfig(n=40, eval_n=20, tools_file=str(path), eval_tools=["refund_order"]), tmp_path / "out").paths
    assert validate_file(paths["train"]).ok and validate_file(paths["eval"]).ok
    train, held = read_records(paths["train"]), read_records(paths["eval"])
    assert all("refund_order" not in r.system_prompt for r in train)
    assert {parse_tool_calls(r.ground_truth)[0].name for r in held if r.behavior == "execute"} == {"refund_order"}
    with pytest.raises(ValueError, match="unknown tools: nope"):
        GenerateConfig(tools_file=str(path), eval_tools=["nope"]).catalogs()


def test_humanize():
    assert humanize("target_language") == "target language"
    assert humanize("maxResults") == "max results"


def test_gold_answers_earn_the_strict_reward(generated):
    """The generator and the scorer agree: every ground truth is what the reward pays for."""
    from tooltune.quickstart import _gold
    from tooltune.rewards import score_record

    _, train, held = generated
    scores = [score_record(r, _gold(r)) for r in train + held]
    assert all(s.decision_correct for s in scores)
    assert all(s.value == 1.0 for s in scores if s.behavior != "clarify")
    clarify = [s.value for s in scores if s.behavior == "clarify"]
    assert min(clarify) >= 0.7 and sum(v == 1.0 for v in clarify) / len(clarify) > 0.97


def test_every_refusal_text_reads_as_a_refusal():
    from tooltune.schema import classify_response

    refusals = load_refusals()
    for split in ("train", "eval"):
        for text in refusals["refusal_templates"][split]:
            assert classify_response(text) == "refuse", text
        for text in refusals["out_of_scope_refusal_templates"][split]:
            assert classify_response(text.replace("{intent}", "order a pizza")) == "refuse", text


def test_natural_requests_say_values_in_everyday_forms_and_hold_out_some_forms(generated):
    from tooltune.data.surface import FAMILIES, render

    _, train, held = generated
    said_train = [r for r in train if r.raw["extra_info"].get("said")]
    assert len(said_train) > len(train) * 0.2  # refusals and free-text values have no other form
    for record in said_train + [r for r in held if r.raw["extra_info"].get("said")]:
        for text in record.raw["extra_info"]["said"].values():
            assert text in record.user_prompt  # what the trace copies is really in the request
    # A form only the held-out file uses never shows in training: check by rendering each
    # training value's text against the held-out forms of its family.
    held_forms = [f for forms in FAMILIES.values() for f in forms if f.held_out]
    assert any(re.search(r"\bthe \d+(st|nd|rd|th) of ", r.user_prompt) for r in held)
    assert not any(re.search(r"\bthe \d+(st|nd|rd|th) of [A-Z][a-z]+ \d{4}", r.user_prompt) for r in train)
    assert held_forms and render("2027-02-14", "date", __import__("random").Random(0), "train")[1] not in {f.name for f in held_forms}


def test_names_typed_in_lower_case_are_called_as_typed(generated):
    _, train, _ = generated
    lowered = 0
    for record in (r for r in train if r.behavior == "execute"):
        for call in parse_tool_calls(record.ground_truth):
            for value in call.arguments.values():
                if isinstance(value, str) and " " in value and value == value.lower() and value[:1].isalpha() and value in record.user_prompt:
                    lowered += 1
    assert lowered > 20


def test_a_clarify_stand_in_never_names_the_value_or_contradicts_the_request(generated):
    from tooltune.data.surface import VAGUE, VAGUE_TEXT, family_of

    _, train, held = generated
    names = {name.lower() for names in load_banks()["code_names"].values() for name in names}
    vague = [r for r in train + held if r.raw["extra_info"].get("vague")]
    assert len(vague) > 20
    texts = 0
    for record in vague:
        stand_in, [missing] = record.raw["extra_info"]["vague"], record.raw["extra_info"]["missing"]
        # only words that name no value: "in pounds sterling" said GBP, and the row asked for it
        assert not any(name in stand_in.lower() for name in names), record.user_prompt
        tool = next(t for t in record.tools if t.name == record.raw["extra_info"]["tool"])
        family = family_of(missing, tool.properties[missing], tool.properties, units=False)  # the fixture says no quantities in other units
        if family == "text":  # a place or a person, inside the parameter's own slot phrase
            assert any(words in stand_in for kind in VAGUE_TEXT.values() for words in kind), stand_in
            texts += 1
            continue
        assert stand_in in VAGUE["amount" if family.startswith("unit:") else family], (stand_in, family)
        if family in ("date", "time"):  # "from 6 pm sometime in the morning" contradicts itself
            given = record.raw["extra_info"]["arguments"]
            assert not [k for k in given if family_of(k, tool.properties[k], tool.properties) == family], record.user_prompt
        if family == "list":
            assert tool.properties[missing]["items"]["type"] in ("number", "integer"), record.user_prompt
    assert texts > 3  # "from the same place as last time" for a missing origin


def test_a_place_or_person_stand_in_keeps_its_twins_slot_words(tmp_path):
    from tooltune.data.surface import VAGUE_TEXT

    train = read_records(generate(GenerateConfig(n=1500, eval_n=10, seed=1, pairs=1.0), tmp_path).paths["train"])
    twins = {r.raw["extra_info"]["pair"]: r for r in train if r.behavior == "execute" and r.raw["extra_info"].get("pair")}
    kept = 0
    for record in (r for r in train if r.raw["extra_info"].get("vague") and r.raw["extra_info"].get("pair") in twins):
        stand_in = record.raw["extra_info"]["vague"]
        words = next((w for kind in VAGUE_TEXT.values() for w in kind if stand_in.endswith(w)), None)
        if words and stand_in != words:  # "from the usual place": the twin says "from <the place>"
            before = record.user_prompt.split(stand_in)[0] + stand_in[: -len(words)]
            assert twins[record.raw["extra_info"]["pair"]].user_prompt.startswith(before), (record.user_prompt, twins[record.raw["extra_info"]["pair"]].user_prompt)
            kept += 1
    assert kept > 3


def test_vague_stand_ins_only_in_clarify_rows_and_optional_values_said_in_passing(generated):
    _, train, _ = generated
    vague = [r for r in train if r.raw["extra_info"].get("vague")]
    assert vague and all(r.behavior == "clarify" and r.raw["extra_info"]["vague"] in r.user_prompt for r in vague)
    # Optional values are said (and then called) in a good share of execute rows.
    with_optional = 0
    for record in (r for r in train if r.behavior == "execute"):
        [call] = parse_tool_calls(record.ground_truth)
        tool = next(t for t in record.tools if t.name == call.name)
        with_optional += any(name not in tool.required for name in call.arguments)
    assert with_optional > 0.25 * sum(r.behavior == "execute" for r in train)


def test_paraphrased_values_name_real_values_and_keep_held_out_tools_words_apart():
    catalogs = {split: {t.name: t.tool for t in load_catalog(split)} for split in ("train", "eval")}
    words = {split: set() for split in catalogs}
    for key, by_value in load_banks()["enum_phrases"].items():
        tool, name = key.split(".")
        [split] = [s for s, tools in catalogs.items() if tool in tools]
        enum = catalogs[split][tool].properties[name]["enum"]
        for value, phrases in by_value.items():
            assert value in enum and phrases, key
            # a phrase that is another value of the same parameter would teach the wrong call
            assert not {p.casefold() for p in phrases} & {v.casefold() for v in enum if v != value}, (key, value)
            words[split] |= {p.casefold() for p in phrases}
    assert not words["train"] & words["eval"]  # the held-out file's words are never trained on


def test_paraphrased_values_say_the_value_in_the_request_and_the_call_keeps_the_enum(tmp_path):
    phrases = load_banks()["enum_phrases"]
    plain = generate(GenerateConfig(n=300, eval_n=100, seed=5, pairs=1.0, rows_per_list=4), tmp_path / "plain").paths
    paths = generate(GenerateConfig(n=300, eval_n=100, seed=5, pairs=1.0, rows_per_list=4, paraphrased_values=True), tmp_path / "phrases").paths
    used = {"train": 0, "eval": 0}
    for split, path in paths.items():
        assert validate_file(path).ok
        for record in read_records(path):
            if record.behavior != "execute":
                continue
            said = record.raw["extra_info"].get("said", {})
            for call in parse_tool_calls(record.ground_truth):
                for name, value in call.arguments.items():
                    spoken = phrases.get(f"{call.name}.{name}", {})
                    if said.get(name) in {p for ps in spoken.values() for p in ps}:
                        assert said[name] in spoken[value] and said[name] in record.user_prompt
                        used[split] += 1
    assert used["train"] > 10 and used["eval"] > 3
    assert paths["train"].read_text() != plain["train"].read_text()


def test_paraphrased_values_say_quantities_in_other_units_that_read_back_to_the_call(tmp_path):
    from tooltune.data.surface import family_of
    from tooltune.reading import read

    paths = generate(GenerateConfig(n=600, eval_n=150, seed=1, paraphrased_values=True), tmp_path).paths
    said_units = {}
    for record in read_records(paths["train"]) + read_records(paths["eval"]):
        tools = {t.name: t for t in record.tools}
        for name, text in record.raw["extra_info"].get("said", {}).items():
            assert text in record.user_prompt  # what the check quotes is really in the request
            tool = tools.get(record.raw["extra_info"].get("tool"))
            schema = tool.properties.get(name) if tool else None
            family = family_of(name, schema, tool.properties) if schema else None
            if family and family.startswith("unit:") and record.behavior == "execute":
                [call] = parse_tool_calls(record.ground_truth)
                assert read(text, family) == call.arguments[name], (name, text)  # the request's words mean the call's value
                said_units.setdefault(record.raw["extra_info"]["split"], set()).add(text)
    assert any(" m" in t or "kg" in t for t in said_units["train"]) and said_units.get("eval")


def test_in_passing_templates_parse_literals_and_placeholders():
    from tooltune.data.catalog import read_passing

    names, fixed, words, text = read_passing('a [nonstop](nonstop_only=true) flight to {destination}, [two of us](passengers=2), [business](cabin=business) [w/ pool](amenities=["pool"])')
    assert names == ["destination"] and text == "a nonstop flight to {destination}, two of us, business w/ pool"
    assert fixed == {"nonstop_only": True, "passengers": 2, "cabin": "business", "amenities": ["pool"]}
    assert words["passengers"] == "two of us"


def test_every_in_passing_template_of_the_catalog_is_right():
    from tooltune.data.catalog import passing_problems

    train = load_catalog("train")
    problems = [(t.name, text, passing_problems(t, text)) for t in train for text in t.passing]
    assert [p for p in problems if p[2]] == []
    assert sum(1 for t in train if t.passing) >= 60  # nearly every training tool has some
    assert not any(t.passing for t in load_catalog("eval"))  # held-out tools' requests are never hand-written for training
    # the check itself fails where it should
    hotels = next(t for t in train if t.name == "search_hotels")
    assert passing_problems(hotels, "a room in {city} [for twelve](guests=12) {check_inn}") == [
        "'check_inn' is not a parameter of search_hotels", "required 'check_in' is not said", "required 'check_out' is not said",
        "'guests' = 12: 12 is greater than the maximum of 10"]
    assert passing_problems(hotels, "{city}x [2](guests=2), [3](guests=3), {check_in} to {check_out}") == [
        "'guests' is said twice", "a {placeholder} touches a letter or digit; put a space or a word between"]
    import dataclasses

    from tooltune.schema import Tool

    broken = dataclasses.replace(hotels, tool=Tool(hotels.name, hotels.tool.description, {**hotels.tool.parameters, "properties": {**hotels.tool.properties, "guests": {"type": "strng"}}}))
    assert passing_problems(broken, "a room in {city} [for two](guests=2) {check_in} to {check_out}") == [
        "'guests' has no valid JSON Schema to check 2 against; fix the parameter's schema"]


def test_passing_rows_say_optional_values_inside_the_request_and_the_call_carries_them(tmp_path):
    plain = generate(GenerateConfig(n=300, eval_n=60, seed=4, pairs=1.0, rows_per_list=4), tmp_path / "plain").paths
    paths = generate(GenerateConfig(n=300, eval_n=60, seed=4, pairs=1.0, rows_per_list=4, passing=0.5), tmp_path / "passing").paths
    for path in paths.values():
        assert validate_file(path).ok
    train = read_records(paths["train"])
    passing = [r for r in train if r.raw["extra_info"].get("frame") == "passing"]
    executes = [r for r in train if r.behavior == "execute" and "pair" not in r.raw["extra_info"]]  # a twin is its clarify row's sentence
    assert 0.3 * len(executes) < len(passing) < 0.7 * len(executes)
    catalog = {t.name: t for t in load_catalog("train")}
    with_optional = 0
    for record in passing:
        [call] = parse_tool_calls(record.ground_truth)
        tool = catalog[call.name].tool
        with_optional += bool(set(call.arguments) - set(tool.required)) or not set(tool.properties) - set(tool.required)
        for name, text in record.raw["extra_info"].get("said", {}).items():
            assert text in record.user_prompt and name in call.arguments  # the check quotes the request's own words
        assert "[" not in record.user_prompt and "{" not in record.user_prompt
    assert with_optional == len(passing)
    assert not any(r.raw["extra_info"].get("frame") == "passing" for r in read_records(paths["eval"]))
    assert paths["eval"].read_text() == plain["eval"].read_text()  # the held-out file is the same with or without
    # a drawn value never repeats a written one: no "12 feet, what's that in feet?"
    for record in passing:
        [call] = parse_tool_calls(record.ground_truth)
        if call.name == "convert_units":
            assert call.arguments["from_unit"] != call.arguments["to_unit"]


def test_the_default_natural_files_stay_as_they_were(tmp_path):
    import hashlib

    # The recipe's data changes only when a preset asks, or when a bug in it is fixed: re-pinned
    # 2026-12-06 when money stopped being read into square_feet ("€650 sq ft") and amount_ml ("200 dollars
    # ml"), again when the seams stopped saying things twice ("ok ok so", "hey there, hey", "flag.."), and
    # on 2026-12-06 (session 13) for "1 bedroom", "$132.50", from_unit unlike to_unit in templates and
    # clarify rows that held the missing value in an optional one ("Which city?" after "commute to ..., Chicago"),
    # and 2026-12-07 for three training tools whose calls take a date and two clock times and clarify stand-ins that
    # no longer name the value ("in pounds sterling") or contradict another time ("from 6 pm sometime in the morning"),
    # and stand in for a place or a person ("from the same place as last time").
    paths = generate(GenerateConfig(n=120, eval_n=40, seed=3, pairs=1.0, rows_per_list=4), tmp_path).paths
    assert {k: hashlib.sha256(p.read_bytes()).hexdigest()[:16] for k, p in paths.items()} == {"train": "8adce603f40faf68", "eval": "ca2ee856705fd4bf"}


def test_natural_zero_writes_the_plain_value_files_of_earlier_versions(tmp_path):
    import hashlib

    # Pinned from the generator before surface forms existed: the old files stay reproducible.
    paths = generate(GenerateConfig(n=120, eval_n=40, seed=3, pairs=1.0, rows_per_list=4, natural=0), tmp_path).paths
    assert {k: hashlib.sha256(p.read_bytes()).hexdigest()[:16] for k, p in paths.items()} == {"train": "5e2923de60e81e5d", "eval": "543eba2225e07090"}
    # The benchmark file every gen-plain number was measured on, and its training twin (docs/data.md);
    # the twin re-pinned 2026-12-06 when convert_units stopped saying its from_unit "in meters" (read as the target),
    # and 2026-12-07 for three training tools whose calls take a date and two clock times (the held-out file unchanged).
    paths = generate(GenerateConfig(n=2100, seed=0, pairs=1.0, rows_per_list=4, natural=0), tmp_path / "bench").paths
    assert {k: hashlib.sha256(p.read_bytes()).hexdigest()[:12] for k, p in paths.items()} == {"train": "c7b7b21dc556", "eval": "5f6a6733a5fa"}


def test_shapes_agents_see(tmp_path):
    """--shapes: two calls in one answer, a conversation after a tool result or a follow-up turn, a long list."""
    paths = generate(GenerateConfig(n=300, eval_n=120, seed=2, shapes=0.5, pairs=1.0, rows_per_list=4), tmp_path).paths
    for path in paths.values():
        assert validate_file(path).ok
    train, held = read_records(paths["train"]), read_records(paths["eval"])
    for rows in (train, held):
        assert {"single", "parallel", "multi_turn", "many_tools"} <= {r.shape for r in rows}
    parallel = [r for r in train if r.shape == "parallel"]
    assert all(len(parse_tool_calls(r.ground_truth)) == 2 and {c.name for c in parse_tool_calls(r.ground_truth)} <= {t.name for t in r.tools} for r in parallel)
    turns = {r.raw["extra_info"].get("turns") for r in train if r.shape == "multi_turn"}
    assert turns == {"follow_up", "after_result"}
    after = next(r for r in train if r.raw["extra_info"].get("turns") == "after_result")
    assert [m["role"] for m in after.prompt] == ["system", "user", "assistant", "tool", "user"]
    assert all(len(r.tools) >= 6 for r in train if r.raw["extra_info"].get("shape") == "many_tools"), "a long list survives list sharing"
    # The held-out file joins and follows up in words training never uses.
    from tooltune.data.phrasing import FOLLOW_UPS, JOINERS
    assert not set(JOINERS["eval"]) & set(JOINERS["train"]) and not set(FOLLOW_UPS["eval"]) & set(FOLLOW_UPS["train"])
    # --shapes 0 (the default) draws nothing extra: the recipe's files stay what they were.
    assert generate(GenerateConfig(n=60, eval_n=20, seed=2, shapes=0.0), tmp_path / "a").paths["train"].read_bytes() == generate(GenerateConfig(n=60, eval_n=20, seed=2), tmp_path / "b").paths["train"].read_bytes()


def test_no_date_range_runs_backwards(tmp_path):
    # check_in before check_out, start_date before end_date: dates drawn apart are put in order.
    paths = generate(GenerateConfig(n=400, eval_n=20, seed=5, pairs=1.0, rows_per_list=4), tmp_path).paths
    ranges = 0
    for record in read_records(paths["train"]):
        for call in parse_tool_calls(record.ground_truth) if record.behavior == "execute" else []:
            dates = [v for v in call.arguments.values() if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v)]
            ranges += len(dates) > 1
            assert dates == sorted(dates), (call.name, call.arguments)
    assert ranges >= 5  # the check saw ranges


def test_named_bounds_of_a_users_tool_never_run_backwards(tmp_path):
    # min_price under max_price, startDateTime before endDateTime, start_time before end_time.
    window = {"type": "object", "required": ["startDateTime", "endDateTime", "min_price", "max_price"], "properties": {
        "startDateTime": {"type": "string", "format": "date-time"}, "endDateTime": {"type": "string", "format": "date-time"},
        "min_price": {"type": "number", "minimum": 0}, "max_price": {"type": "number", "minimum": 0},
        "start_time": {"type": "string", "pattern": r"^\d{2}:\d{2}$"}, "end_time": {"type": "string", "pattern": r"^\d{2}:\d{2}$"}}}
    tools = [{"name": "find_events", "description": "Find events in a time window.", "parameters": window},
             {"name": "get_weather", "description": "Get the weather for a city.", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]
    (tmp_path / "tools.json").write_text(json.dumps(tools))
    paths = generate(GenerateConfig(n=100, eval_n=10, tools_file=str(tmp_path / "tools.json"), eval_tools=["get_weather"]), tmp_path / "out").paths
    pairs = 0
    for record in read_records(paths["train"]):
        for call in parse_tool_calls(record.ground_truth) if record.behavior == "execute" else []:
            for low, high in (("startDateTime", "endDateTime"), ("min_price", "max_price"), ("start_time", "end_time")):
                if low in call.arguments and high in call.arguments:
                    pairs += 1
                    assert call.arguments[low] <= call.arguments[high], call.arguments
    assert pairs >= 30


def test_the_seams_of_a_request_say_nothing_twice(tmp_path):
    # "ok ok so ...", "so, so I need to", "...missing a flag..": an opener, a closer or a sentence end said once.
    paths = generate(GenerateConfig(n=1200, eval_n=20, seed=0, pairs=1.0), tmp_path).paths
    requests = [r.user_prompt for r in read_records(paths["train"])]
    assert not [t for t in requests if re.search(r"\b(ok|so),? \1\b", t, re.I)]
    assert not [t for t in requests if re.search(r"(?<!\.)[.?!]\.(?=\s|$)", t)]


def test_one_of_a_thing_is_said_in_the_singular_and_money_with_its_cents(tmp_path):
    # "with 1 bedrooms", "compounded 1 times a year", "$132.5", "2.5 nautical miles in nautical miles".
    paths = generate(GenerateConfig(n=2400, eval_n=20, seed=0, pairs=1.0, rows_per_list=4), tmp_path).paths
    rows = read_records(paths["train"])
    requests = [r.user_prompt for r in rows]
    assert not [t for t in requests if re.search(r"\b(?:1|one) (?:bedrooms|times|passengers|people|guests|nights|adults|seats)\b", t)]
    assert not [t for t in requests if re.search(r"[$€£]\d+\.\d(?![\dkKM])", t)]
    assert [t for t in requests if re.search(r"\b1 (?:bedroom|time)\b", t)]  # the singular is there, not the slot dropped
    for record in rows:
        for call in parse_tool_calls(record.ground_truth) if record.behavior == "execute" else []:
            assert call.name != "convert_units" or call.arguments["from_unit"] != call.arguments["to_unit"], record.user_prompt


def test_a_clarify_row_holds_no_value_for_what_it_asks(tmp_path):
    # "Which city are you looking to rent in?" after "commute: destination 410 Lakeshore Boulevard, Chicago".
    paths = generate(GenerateConfig(n=2400, eval_n=20, seed=0, pairs=1.0, rows_per_list=4), tmp_path).paths
    cities = [c for c in load_banks()["city"] if len(c) > 2]
    asked = [r for r in read_records(paths["train"]) if r.behavior == "clarify" and "city" in r.raw["extra_info"]["missing"]]
    assert len(asked) > 10
    assert not [r.user_prompt for r in asked if any(re.search(rf"\b{re.escape(c)}\b", r.user_prompt, re.I) for c in cities)]


def test_singular_after_one_leaves_what_is_no_plural():
    from tooltune.data.surface import singular_after_one

    assert singular_after_one("with {} bedrooms", "{}", "1") == "with {} bedroom"
    assert singular_after_one("for {n} people", "{n}", "one") == "for {n} person"
    assert singular_after_one("with {} bedrooms", "{}", "2") == "with {} bedrooms"
    for phrase in ("split {} plus tip", "in {} class", "{} status", "{} is free", "{} series", "{} news", "{} Mbps", "{} always"):
        assert singular_after_one(phrase, "{}", "1") == phrase
    for plural, one in (("stories", "story"), ("inches", "inch"), ("boxes", "box"), ("classes", "class"), ("calories", "calorie")):
        assert singular_after_one("{} " + plural, "{}", "1") == "{} " + one


def test_singular_after_one_reads_right_for_every_noun_the_catalogs_put_after_a_slot():
    from tooltune.data.catalog import load_catalog
    from tooltune.data.surface import singular_after_one

    words = set()
    for split in ("train", "eval"):
        for ct in load_catalog(split):
            phrases = [p for v in ct.slots.values() if isinstance(v, list) for p in v] + list(ct.templates)
            words |= {m[1] for p in phrases for m in re.finditer(r"\}\s+([A-Za-z]+)\b", p)}
    changed = {w: singular_after_one("{} " + w, "{}", "1")[3:] for w in words}
    changed = {w: s for w, s in changed.items() if s != w}
    # Read one by one (2026-12-06): every singular here is the English one.
    assert changed == {
        "bedrooms": "bedroom", "books": "book", "calories": "calorie", "characters": "character", "chars": "char", "children": "child", "commits": "commit",
        "courses": "course", "days": "day", "decimals": "decimal", "degrees": "degree", "departures": "departure", "directions": "direction",
        "events": "event", "extensions": "extension", "friends": "friend", "grams": "gram", "guests": "guest", "headlines": "headline",
        "hours": "hour", "jobs": "job", "kids": "kid", "kilograms": "kilogram", "kilometers": "kilometer", "learners": "learner", "lights": "light",
        "milliliters": "milliliter", "minutes": "minute", "months": "month", "novels": "novel", "openings": "opening", "passengers": "passenger",
        "people": "person", "pixels": "pixel", "places": "place", "podcasts": "podcast", "positions": "position", "questions": "question",
        "reads": "read", "results": "result", "roles": "role", "seats": "seat", "seconds": "second", "shows": "show", "standings": "standing",
        "times": "time", "units": "unit", "versions": "version", "ways": "way", "weeks": "week", "years": "year"}


def test_the_second_request_of_a_message_brings_no_greeting(tmp_path):
    paths = generate(GenerateConfig(n=300, eval_n=20, seed=1, shapes=1.0), tmp_path).paths
    joined = [r.user_prompt for r in read_records(paths["train"]) if r.raw["extra_info"].get("shape") == "parallel"]
    assert len(joined) > 30 and not [t for t in joined if re.search(r"\b(Also,|And|Then|After that,|And also) (hello|hi|hey|good morning)\b", t, re.I)]


def test_a_sentence_end_is_tidied_but_dots_inside_a_value_stay():
    from tooltune.data.generate import _tidy

    assert _tidy("Send it with the message: see you at 5.. thanks", True) == "Send it with the message: see you at 5. thanks"
    assert _tidy("Compare main..feature and ../src and 1..10.", True) == "Compare main..feature and ../src and 1..10."
    assert _tidy("Wait for it...", True) == "Wait for it..."


def test_bounds_are_named_pairs_and_from_to_orders_only_times():
    from tooltune.data.generate import _after, _bounds

    pairs = {(low, high): word for low, high, word in _bounds(["min_price", "max_price", "from_account_id", "to_account_id", "first_name", "last_name"])}
    assert pairs == {("min_price", "max_price"): "min", ("from_account_id", "to_account_id"): "from", ("first_name", "last_name"): "first"}
    assert not _after(7, 3, numbers=False) and _after(7, 3) and _after("2026-01-02", "2026-01-01", numbers=False)
    assert not _after("Lovelace", "Ada")  # names are no range
    # date-times by their instant, not their text: 10:00 in Paris is 09:00Z, before 09:30Z
    assert not _after("2026-03-01T10:00:00+01:00", "2026-03-01T09:30:00Z") and _after("2026-03-01T10:00:00.5Z", "2026-03-01T10:00:00Z")
    assert not _after("2026-03-01T10:00:00", "2026-03-01T09:00:00Z")  # one without an offset: no order to tell


def test_a_users_range_listed_end_first_still_runs_forwards(tmp_path):
    trip = {"name": "book_trip", "description": "Book a round trip.", "parameters": {"type": "object", "required": ["return_date", "departure_date"], "properties": {
        "return_date": {"type": "string", "format": "date"}, "departure_date": {"type": "string", "format": "date"}}}}
    weather = {"name": "get_weather", "description": "Get the weather for a city.", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
    (tmp_path / "tools.json").write_text(json.dumps([trip, weather]))
    paths = generate(GenerateConfig(n=60, eval_n=5, tools_file=str(tmp_path / "tools.json"), eval_tools=["get_weather"]), tmp_path / "out").paths
    calls = [c.arguments for r in read_records(paths["train"]) if r.behavior == "execute" for c in parse_tool_calls(r.ground_truth)]
    assert calls and all(c["departure_date"] <= c["return_date"] for c in calls)


def test_a_users_tools_that_broke_or_hung_the_run_are_served_or_skipped_with_their_reason(tmp_path):
    # Found by a hostile probe (2026-12-06): each of these stopped the whole run (a traceback or a hang)
    # or drew wrong rows.
    node = {"type": "object", "properties": {"label": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}, "required": ["label", "children"]}
    tools = [
        {"name": "get_weather", "description": "Get the weather for a city.", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
        # zod-to-json-schema reuses a schema by a reference into the properties, inside an array
        {"name": "plan_route", "description": "Plan a route.", "parameters": {"type": "object", "properties": {
            "origin": {"type": "object", "properties": {"lat": {"type": "number"}, "lng": {"type": "number"}}, "required": ["lat", "lng"]},
            "stops": {"type": "array", "items": {"$ref": "#/properties/origin"}}}, "required": ["origin", "stops"]}},
        # backtracks for hours on a text it does not match; \s came out a tab the request could not say
        {"name": "post_msg", "description": "Post a message.", "parameters": {"type": "object", "properties": {
            "message": {"type": "string", "pattern": r"^([\w\s]+)+$"}, "plate": {"type": "string", "pattern": r"^[A-Z]{2}\s[0-9]{3}\s[A-Z]{2}$"}}, "required": ["message", "plate"]}},
        {"name": "set_auth", "description": "Set auth.", "parameters": {"type": "object", "properties": {"scheme": {"type": "string", "const": "Bearer"}, "token": {"type": "string"}}, "required": ["scheme", "token"]}},
        {"name": "set_rate", "description": "Set a rate.", "parameters": {"$schema": "http://json-schema.org/draft-04/schema#", "type": "object",
                                                                           "properties": {"rate": {"type": "number", "minimum": 0, "maximum": 1, "exclusiveMinimum": True}}, "required": ["rate"]}},
        {"name": "make_tree", "description": "Make a tree.", "parameters": {"$defs": {"Node": node}, "type": "object", "properties": {"root": {"$ref": "#/$defs/Node"}}, "required": ["root"]}},
        {"name": "bad_nulls", "description": "Bad.", "parameters": {"type": "object", "properties": {"xs": {"type": "array", "maxItems": None}}, "required": ["xs"]}},
        {"name": "bad_types", "description": "Bad.", "parameters": {"type": "object", "properties": {"n": {"type": "number", "minimum": "0"}}, "required": ["n"]}},
        {"name": "find_hotel", "description": "Find a hotel.", "parameters": {"type": "object", "properties": {
            "city": {"type": "string"}, "check_in": {"type": "string", "format": "date"}, "check_out": {"type": "string", "format": "date"}}, "required": ["city", "check_in", "check_out"]}},
    ]
    (tmp_path / "tools.json").write_text(json.dumps(tools))
    for natural in (0.0, 0.7):
        out = tmp_path / f"out{natural}"
        generated = generate(GenerateConfig(n=120, eval_n=0, natural=natural, tools_file=str(tmp_path / "tools.json")), out)
        assert generated.skipped.keys() == {"bad_nulls", "bad_types"}
        assert "maxItems: None is not of type 'integer'" in generated.skipped["bad_nulls"]
        rows = read_records(generated.paths["train"])
        assert validate_file(generated.paths["train"]).ok
        # --eval-n 0 writes no eval file: no tool is held out for one
        assert {c.name for r in rows if r.behavior == "execute" for c in parse_tool_calls(r.ground_truth)} == {t["name"] for t in tools} - {"bad_nulls", "bad_types"}
        for record in rows:
            for call in parse_tool_calls(record.ground_truth) if record.behavior == "execute" else []:
                if call.name == "set_auth":
                    assert call.arguments["scheme"] == "Bearer"
                if call.name == "post_msg":
                    assert call.arguments["plate"] in record.user_prompt
                if call.name == "find_hotel":  # plain files of your own tools keep their ranges forwards too
                    assert call.arguments["check_in"] <= call.arguments["check_out"]
    # A tool with nothing to say makes few different requests: a line (the CLI catches ValueError), not a RuntimeError traceback.
    (tmp_path / "ping.json").write_text(json.dumps([{"name": "ping", "description": "Ping the server.", "parameters": {"type": "object", "properties": {}}}]))
    with pytest.raises(ValueError, match="could not write a new unique .* ask for fewer rows"):
        generate(GenerateConfig(n=200, eval_n=150, tools_file=str(tmp_path / "ping.json")), tmp_path / "few")


def test_the_report_names_every_tool_a_small_run_left_without_rows(tmp_path):
    tools = [{"name": f"tool_{i}", "description": f"Do thing {i}.", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}} for i in range(24)]
    (tmp_path / "tools.json").write_text(json.dumps(tools))
    report = generate(GenerateConfig(n=10, eval_n=5, tools_file=str(tmp_path / "tools.json")), tmp_path / "out").render()
    assert all(f"tool_{i} " in report for i in range(24)) and "no row: too few rows asked for this many tools (--n)" in report

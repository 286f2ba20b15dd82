from tooltune.data import read_records, validate_file
from tooltune.data.generate import GenerateConfig, generate
from tooltune.data.naming import name_style, restyle, styled
from tooltune.schema import parse_tool_calls
from tooltune.training.reasoning import reasoning_trace


def test_styles_of_a_name():
    assert styled("get_stock_price", "camel") == "getStockPrice"
    assert styled("get_stock_price", "dotted", "markets") == "markets.get_stock_price"
    assert styled("get_stock_price", "dotted") == "getStockPrice"  # no namespace to put before it
    assert styled("get_stock_price", "dotted", "general") == "getStockPrice"  # a user's tool without a domain
    assert styled("get_stock_price", "snake") == "get_stock_price"
    assert name_style(["getStockPrice", "search"]) == "camel"
    assert name_style(["markets.get_stock_price"]) == "dotted"
    assert name_style(["get_stock_price", "search", "getX_y"]) == "snake"


def _names_agree(record):
    """Every place the row names a tool names one of its listed tools."""
    listed = {t.name for t in record.tools}
    assert all(t in record.system_prompt for t in listed)
    truth = parse_tool_calls(record.ground_truth) or []
    earlier = [c for m in record.prompt[1:] if m["role"] == "assistant" for c in parse_tool_calls(m["content"]) or []]
    assert {c.name for c in [*truth, *earlier]} <= listed, (record.ground_truth, listed)
    extra = record.raw["extra_info"]
    if extra.get("tool") and not (record.behavior == "refuse" and extra.get("kind") == "tool_not_offered"):
        assert extra["tool"] in listed
    assert set(extra.get("calls") or []) <= listed


def twins_listed_apart(rows):
    """Pairs whose rows share no list (a request for a tool not offered, and its twin that lists it)."""
    lists: dict = {}
    for record in rows:
        extra = record.raw["extra_info"]
        if "pair" in extra:
            lists.setdefault(extra["pair"], set()).add(extra.get("list"))
    return {pair for pair, seen in lists.items() if len(seen) > 1}


def test_renamed_rows_name_their_tools_alike_everywhere(tmp_path):
    paths = generate(GenerateConfig(n=300, eval_n=120, seed=4, name_styles=0.5, shapes=0.4, pairs=1.0, rows_per_list=4), tmp_path).paths
    for split, path in paths.items():
        assert validate_file(path).ok
        rows = read_records(path)
        styles = [r.raw["extra_info"].get("names", "snake") for r in rows]
        assert {"snake", "camel", "dotted"} == set(styles), split  # both files: eval.jsonl reports each style
        assert 0.3 < styles.count("snake") / len(rows) < 0.7
        for record, style in zip(rows, styles):
            _names_agree(record)
            assert name_style([t.name for t in record.tools]) == style
        # One agent, one style: rows sharing a list are renamed alike, and so is a clarify row with its
        # twin when they have no list (eval.jsonl has no pairs: only train.jsonl is checked for them).
        for key in ("list", "pair"):
            by: dict = {}
            for record, style in zip(rows, styles):
                extra = record.raw["extra_info"]
                if key in extra and record.raw["extra_info"].get("kind") != "tool_not_offered" and extra.get("pair") not in twins_listed_apart(rows):
                    by.setdefault(extra[key], set()).add(style)
            assert all(len(s) == 1 for s in by.values()), key
    # The check before a clarify row's question names the renamed tool, so the trained check copies it from the list.
    clarify = next(r for r in read_records(paths["train"]) if r.behavior == "clarify" and r.raw["extra_info"].get("names") == "dotted")
    assert f"Tool: {clarify.raw['extra_info']['tool']}. Required:" in reasoning_trace(clarify)
    # 0 (the default) draws nothing: the recipe's files stay what they were.
    assert generate(GenerateConfig(n=60, eval_n=20, seed=2, name_styles=0.0), tmp_path / "a").paths["train"].read_bytes() == generate(GenerateConfig(n=60, eval_n=20, seed=2), tmp_path / "b").paths["train"].read_bytes()


def test_a_row_whose_names_would_collide_is_left_as_it_was():
    tools = [{"type": "function", "function": {"name": n, "description": "", "parameters": {"type": "object", "properties": {}}}} for n in ("get_x", "getX")]
    raw = {"prompt": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}], "tools": tools,
           "reward_model": {"ground_truth": '[{"name": "get_x", "arguments": {}}]'}, "behavior": "execute", "extra_info": {"tool": "get_x"}}
    assert restyle(raw, "camel", {}) is False
    assert [t["function"]["name"] for t in raw["tools"]] == ["get_x", "getX"] and raw["extra_info"] == {"tool": "get_x"}


def test_users_own_tools_keep_their_names(tmp_path):
    import pytest

    (tmp_path / "tools.json").write_text('[{"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]')
    with pytest.raises(ValueError, match="drop --name-styles with --tools"):
        GenerateConfig(tools_file=str(tmp_path / "tools.json"), name_styles=0.3)

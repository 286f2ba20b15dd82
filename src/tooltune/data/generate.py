"""Synthetic execute / clarify / refuse data that teaches the decision, not just the call format.

    tooltune data generate --n 1500 --out data/ [--seed 0] [--mix 0.6,0.25,0.15]

writes ``train.jsonl`` (training catalog, training phrasings, training kinds of harm) and
``eval.jsonl`` (held-out catalog, held-out phrasings and kinds of harm). Each row offers its target
tool among 0-3 distractors in the default system prompt, so choosing the tool is part of the task.
Clarify rows are built like execute rows with one required value left out, so the only difference
the model can learn from is whether the value is there. With ``--pairs`` a training clarify row
comes with its execute twin: the same sentence, tools and system prompt with the value given
(contrastive pairs), so "copy a value" only pays where the request holds one; and a
request for a tool the row does not offer comes with the twin that lists the tool. With
``--rows-per-list K`` up to K training rows share one tool list, as requests to one agent do, so
``share_prompts: true`` can run that list once for all of them.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..schema import Tool, format_tool_calls, render_system_prompt
from .catalog import CatalogTool, humanize, load_banks, name_words, load_catalog, load_refusals, load_user_tools, read_passing
from .phrasing import ASIDES, ASK_LEADS, BACKSTORIES, CLOSERS, FOLLOW_UPS, FRAMES, GENERIC_ASKS, GENERIC_SLOTS, JOINERS, OPENERS, REFUSE_WRAPS
from .naming import NAME_STYLES, restyle
from .records import Record, make_record, write_jsonl
from .schema_values import NoValue, draw
from .surface import family_of, fill_slot, render, singular_after_one, unit_of, vague
from .validate import argument_problems, schema_problem

__all__ = ["GenerateConfig", "Generated", "generate", "generate_split", "exact_counts", "share_tool_lists", "rename"]

STYLES = ("formal", "casual", "terse")
# Execute rows in other shapes than one call (GenerateConfig.shapes): drawn evenly.
SHAPES = ("parallel", "same_tool_twice", "follow_up", "after_result", "many_tools")
# The family _say gives a value said as a tool's whole phrase for it ("cheapest first"), not a form put in a slot.
ENUM_PHRASE = "enum_phrase"
# Which string parameters draw from which value bank, by a word in the parameter's name.
_NAME_BANKS = [
    ("email", "email"), ("date", "date"), ("time", "time"), ("city", "city"), ("location", "city"), ("airport", "airport"),
    ("language", "language"), ("currency", "currency"), ("ticker", "ticker"), ("symbol", "ticker"), ("country", "country"),
    ("url", "url"), ("company", "company"), ("recipient", "email"), ("username", "username"), ("name", "person_name"),
    ("address", "address"), ("timezone", "timezone"), ("query", "topic"), ("topic", "topic"), ("title", "topic"),
    ("text", "phrase"), ("message", "phrase"),
]
# Kinds of refuse row, as shares: harmful requests, requests no tool could serve, and real requests
# for a tool the row does not list (the one that needs the tool list read; eval.jsonl's 45 refuse
# rows hold ~25 / 10 / 10 of them).
REFUSE_KINDS = (0.55, 0.25, 0.20)
_YEARS = (2025, 2026, 2027, 2028)
_NICE_AMOUNTS = [5, 10, 12.5, 15, 20, 25, 40, 50, 75, 99.99, 100, 150, 200, 250, 300, 500, 750, 1000, 1200, 2500]


@dataclass
class GenerateConfig:
    """What :func:`generate` writes."""

    n: int = field(default=1500, metadata={"help": "Training rows to write to train.jsonl."})
    eval_n: int = field(default=300, metadata={"help": "Held-out rows to write to eval.jsonl (0 skips it)."})
    seed: int = field(default=0, metadata={"help": "Same seed, same files."})
    mix: tuple[float, float, float] = field(default=(0.6, 0.25, 0.15), metadata={"help": "Fractions of execute, clarify, refuse rows; sums to 1."})
    max_distractors: int = field(default=3, metadata={"help": "Each row offers its target tool plus 0..max_distractors others."})
    pairs: float = field(default=0.0, metadata={"help": "Fraction of training clarify rows (and requests for a tool the row does not offer) that come with their execute twin: the same sentence with the missing value given (or the tool listed), or for a harmful use of a listed tool a harmless request to that tool. A twin takes one of the execute rows, so the mix stays exact; eval.jsonl never has twins."})
    refuse_kinds: tuple[float, float, float] = field(default=REFUSE_KINDS, metadata={"help": "Shares of harmful, out-of-scope and tool-not-offered requests among training refuse rows (drawn, not exact). eval.jsonl always uses the default, so held-out scores compare across training sets."})
    rows_per_list: int = field(default=1, metadata={"help": "Training rows that share one tool list, as requests to one agent's system prompt do: up to this many consecutive rows (a clarify row and its twin always together) get one list of their target tools plus their own distractors, at most 1 + max_distractors tools, never a tool a row asks for that it must not have. SFT with share_prompts: true runs each list once per batch. eval.jsonl keeps a list per row."})
    natural: float = field(default=0.7, metadata={"help": "Share of values a request says the way people write them ('4 pm', 'the 14th of Feb 2027', '$120k', 'Apple (AAPL)') while the call keeps the schema's form; with it, optional values are sometimes added in passing and clarify rows sometimes hold a vague stand-in for the missing value ('sometime soon'). eval.jsonl uses forms training never shows. 0 writes the plain-value files of earlier versions byte for byte."})
    harmful_uses: float = field(default=0.0, metadata={"help": "Share of training harmful requests that ask one of the row's own tools to do the harm (directions to stalk someone, an email that phishes coworkers), written per training tool in refusals.json: refusing then takes reading what the request is for, not spotting a request no tool fits. eval.jsonl always uses 0."})
    backstories: float = field(default=0.0, metadata={"help": "Share of training requests that are not harmful (execute, clarify, out-of-scope and tool-not-offered rows) told with a line of harmless personal background before them ('My ex and I share custody, so I'm handling this one.', 'I'm helping my dad, he just got out of the hospital.'): the people and troubles harmful requests mention, in requests that harm no one, so refusing takes reading what is asked for, not spotting an ex or a neighbour. The line states no value. eval.jsonl always uses 0."})
    near_refusals: float = field(default=0.0, metadata={"help": "Share of training requests for a tool the row does not offer whose list shows a tool of that tool's own domain (parking for a restaurant search, museum hours for public holidays), so refusing takes reading what each listed tool does, not noticing that a whole domain is absent. eval.jsonl always uses 0."})
    paraphrased_values: bool = field(default=False, metadata={"help": "With natural: say more values in other words: a catalog tool's enum values in the phrases people use for them ('cheapest first' for sort_by price, 'it doesn't fit' for reason 'wrong size', 'on foot' for mode walking; written per tool in values.json, eval.jsonl's tools with their own), and quantities whose description names a unit in another unit of it ('1.75 m' for height_cm 175, '12 kΩ' for 12000 ohms, '250 mA' for 0.25 A). Off: enum values as the general word bank has them inside the slot's phrase, quantities as plain amounts, the files of earlier versions."})
    passing: float = field(default=0.0, metadata={"help": "Share of training execute rows written from a catalog tool's in-passing requests (hand-written whole sentences that say optional values as people do, inside the sentence: 'a [nonstop](nonstop_only=true) flight for {date}'), where the tool has them; the values still vary. eval.jsonl never uses them. 0: the files of earlier versions."})
    shapes: float = field(default=0.0, metadata={"help": "Share of execute rows in the shapes real agents see: two calls in one answer (two tools, or one tool for two values), a conversation that goes on after a tool result or supplies a value asked for earlier, or a long tool list (6-12 tools). Both files get them; 0 writes single-call rows only, as earlier versions did."})
    name_styles: float = field(default=0.0, metadata={"help": "Share of rows (of tool lists, when rows share one; a clarify row and its twin together) whose tool names are renamed into another style agents use: camelCase (getStockPrice) or dotted with the tool's domain as namespace (markets.get_stock_price), half each, so the model copies a name from the list rather than expecting snake case. Both files get them; eval.jsonl reports each style. 0: the files of earlier versions."})
    tools_file: str | None = field(default=None, metadata={"help": "Generate for these tools (OpenAI function schemas) instead of the bundled catalogs."})
    eval_tools: list[str] | None = field(default=None, metadata={"help": "With tools_file: names held out for eval.jsonl (default: a fifth of them, rounded, at least one)."})

    def __post_init__(self) -> None:
        if self.n < 0 or self.eval_n < 0 or self.n + self.eval_n == 0:
            raise ValueError(f"--n counts training rows (0 writes no train.jsonl) and --eval-n held-out rows (0 writes no eval.jsonl): neither below 0, and at least one positive; got {self.n} and {self.eval_n}")
        # `not 0 <= x <= 1` also refuses nan, which every comparison calls false
        if len(self.mix) != 3 or any(not 0 <= m <= 1 for m in self.mix) or abs(sum(self.mix) - 1) > 1e-6:
            raise ValueError(f"--mix needs three non-negative fractions (execute,clarify,refuse) that sum to 1, got {','.join(map(str, self.mix))}")
        if not 0 <= self.max_distractors <= 10:
            raise ValueError(f"--max-distractors must be between 0 and 10, got {self.max_distractors}")
        for flag, share in (("--harmful-uses", self.harmful_uses), ("--near-refusals", self.near_refusals), ("--backstories", self.backstories)):
            if not 0 <= share <= 1:
                raise ValueError(f"{flag} is a share of requests between 0 and 1, got {share}")
        if not 0 <= self.natural <= 1:
            raise ValueError(f"--natural is a share of values between 0 and 1, got {self.natural}")
        if not 0 <= self.passing <= 1:
            raise ValueError(f"--passing is a share of execute rows between 0 and 1, got {self.passing}")
        if not 0 <= self.name_styles <= 1:
            raise ValueError(f"--name-styles is a share of rows between 0 and 1, got {self.name_styles}")
        if self.name_styles and self.tools_file:
            raise ValueError("--name-styles renames the bundled catalogs' tools; your own tools keep the names your agent sends, so drop --name-styles with --tools")
        if not 0 <= self.shapes <= 1:
            raise ValueError(f"--shapes is a share of execute rows between 0 and 1, got {self.shapes}")
        if not 0 <= self.pairs <= 1:
            raise ValueError(f"--pairs is a fraction of clarify rows between 0 and 1, got {self.pairs}")
        if self.rows_per_list < 1:
            raise ValueError(f"--rows-per-list is a count of rows sharing one tool list (1: every row its own), got {self.rows_per_list}")
        if len(self.refuse_kinds) != 3 or any(not 0 <= k <= 1 for k in self.refuse_kinds) or abs(sum(self.refuse_kinds) - 1) > 1e-6:
            raise ValueError(f"--refuse-kinds needs three non-negative shares (harmful,out_of_scope,tool_not_offered) that sum to 1, got {','.join(map(str, self.refuse_kinds))}")

    def catalogs(self) -> tuple[list[CatalogTool], list[CatalogTool], dict[str, str]]:
        """(training tools, held-out tools, tools skipped with their reasons)."""
        if not self.tools_file:
            return list(load_catalog("train")), list(load_catalog("eval")), {}
        tools, skipped = load_user_tools(self.tools_file)
        if not tools:
            raise ValueError(f"{self.tools_file}: no usable tool; " + _reasons(skipped))
        unknown = set(self.eval_tools or []) - {t.name for t in tools}
        if unknown:
            raise ValueError(f"--eval-tools names unknown tools: {', '.join(sorted(unknown))} (known: {', '.join(sorted(t.name for t in tools))})")
        # Which tools can be served is known before the split, so a skipped tool never leaves a split empty.
        tools = _RowMaker(tools, "train", random.Random(self.seed), self.max_distractors, natural=self.natural, skipped=skipped).tools
        names = {t.name for t in tools}
        held = set(self.eval_tools or [])
        if held and not held & names:
            raise ValueError(f"every tool --eval-tools names was skipped ({_reasons({n: skipped[n] for n in sorted(held) if n in skipped})}); hold out another")
        held &= names
        if not held and len(tools) > 1 and self.eval_n > 0:  # no eval file: every tool trains
            # a fifth, rounded: a 9-tool list holds out two, so eval.jsonl is not one tool's rows
            held = set(random.Random(self.seed).sample(sorted(names), max(1, round(len(tools) / 5))))
        train = [t for t in tools if t.name not in held]
        if not train:
            raise ValueError("every tool is held out for eval; leave at least one for training")
        return train, [t for t in tools if t.name in held] or train, skipped


def exact_counts(n: int, mix: tuple[float, float, float]) -> dict[str, int]:
    """Split n rows by mix exactly: floors first, then the largest remainders get the leftovers."""
    raw = [n * m for m in mix]
    counts = [int(r) for r in raw]
    for i in sorted(range(3), key=lambda i: raw[i] - counts[i], reverse=True)[: n - sum(counts)]:
        counts[i] += 1
    return dict(zip(("execute", "clarify", "refuse"), counts))


@dataclass
class Generated:
    """What :func:`generate` wrote: the files, the rows each tool got, and the tools it skipped."""

    paths: dict[str, Path]
    rows: dict[str, dict[str, dict[str, int]]]  # tool -> split -> behavior -> rows
    skipped: dict[str, str]  # tool -> why no row could be made for it
    notes: list[str] = field(default_factory=list)  # what a user's tools could do better, a line each

    def render(self) -> str:
        """The per-tool report ``data generate`` prints."""
        splits = list(self.paths)
        width = max([len(n) for n in [*self.rows, *self.skipped]] + [4])
        lines = [f"{'tool':<{width}}  " + "  ".join(f"{s + ' ex/cl/ref':>16}" for s in splits)]
        for name in sorted(self.rows):
            counts = ["/".join(str(self.rows[name].get(s, {}).get(b, 0)) for b in ("execute", "clarify", "refuse")) if self.rows[name].get(s) else "-" for s in splits]
            stopped = f"  stopped early, its rows so far kept: {self.skipped[name]}" if name in self.skipped else "" if self.rows[name] else "  no row: too few rows asked for this many tools (--n)"
            lines.append(f"{name:<{width}}  " + "  ".join(f"{c:>16}" for c in counts) + stopped)
        for name, why in sorted(self.skipped.items()):
            if name not in self.rows:
                lines.append(f"{name:<{width}}  skipped: {why}")
        both = sorted(name for name, by in self.rows.items() if by.get("train", {}).get("execute") and by.get("eval", {}).get("execute"))
        if both:  # one usable tool: nothing could be held out
            lines.append(f"note: {', '.join(both)} made calls in both files, so eval.jsonl measures tools training saw; bring more tools to hold some out")
        lines += [f"note: {n}" for n in self.notes]
        made = sum(sum(by.values()) for tool in self.rows.values() for by in tool.values())
        lines.append(f"{sum(1 for by in self.rows.values() if by)} tools with rows, {len(self.skipped)} skipped; {made} rows name a tool (refuse: it was asked for but not offered); harmful and out-of-scope rows name none")
        return "\n".join(lines)


def generate(config: GenerateConfig, out_dir: str | Path) -> Generated:
    """Write train.jsonl (and eval.jsonl) under ``out_dir``. A tool no valid row can be made for is
    skipped with its reason; only when no tool is left is it an error."""
    train_tools, eval_tools, skipped = config.catalogs()
    out = Path(out_dir)
    seen: set[str] = set()
    paths = {"train": out / "train.jsonl"}
    train = generate_split(train_tools, config.n, config.mix, "train", config.seed, config.max_distractors, seen, config.pairs, config.refuse_kinds, config.natural, skipped, config.shapes, config.near_refusals, config.harmful_uses, config.paraphrased_values, config.passing)
    if config.rows_per_list > 1:
        share_tool_lists(train, train_tools, config.rows_per_list, 1 + config.max_distractors, random.Random(config.seed + 104729))
    if config.backstories:  # after the rows are drawn and listed: every row stays what it was without it
        tell_backstories(train, config.backstories, config.seed)
    splits = {"train": train}
    if config.eval_n:
        paths["eval"] = out / "eval.jsonl"
        held = [t for t in eval_tools if t.name not in skipped] or [t for t in train_tools if t.name not in skipped]
        splits["eval"] = generate_split(held, config.eval_n, config.mix, "eval", config.seed + 7919, config.max_distractors, seen, natural=config.natural, skipped=skipped, shapes=config.shapes, paraphrased_values=config.paraphrased_values)
    if not config.n:  # held-out rows only: no empty train.jsonl
        del splits["train"], paths["train"]
    # Every tool that could be served has a line, a tool the draw left without rows too (--n 10 for 24 tools).
    rows: dict[str, dict[str, dict[str, int]]] = {t.name: {} for t in [*train_tools, *eval_tools] if t.name not in skipped} if config.tools_file else {}
    for split, records in splits.items():  # counted under the tools' own names, before any renaming
        for record in records:
            tool = record.raw["extra_info"].get("tool")
            if tool:  # a refusal counts for the tool it asked for but the row did not offer
                by = rows.setdefault(tool, {}).setdefault(split, {})
                by[record.behavior] = by.get(record.behavior, 0) + 1
    if config.name_styles:
        namespaces = {t.name: t.domain for t in [*train_tools, *eval_tools]}
        for split, records in splits.items():
            rename(records, config.name_styles, namespaces, random.Random(config.seed + 15485863 + (split == "eval")))
    for split, records in splits.items():  # written only when every split could be made
        write_jsonl(paths[split], records)
    return Generated(paths, rows, dict(skipped), _tool_notes([*train_tools, *eval_tools]) if config.tools_file else [])


def _tool_notes(tools: list[CatalogTool]) -> list[str]:
    """What in a user's tools makes worse data or calls other clients refuse: no description (its
    requests come from the name alone), a name most function-calling APIs reject."""
    seen = {t.name: t for t in tools}.values()
    bare = sorted(t.name for t in seen if not t.hinted and not (t.tool.description or "").strip())
    odd = sorted(t.name for t in seen if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", t.name))
    notes = [f"{', '.join(bare)} {'has' if len(bare) == 1 else 'have'} no description: requests come from the name alone; a one-line description of what it does makes better ones"] if bare else []
    if odd:
        notes.append(f"{', '.join(odd)}: most function-calling APIs take names of letters, digits, '_', '-' and '.' only, up to 64; the model will learn the name as written")
    return notes


def generate_split(
    tools: list[CatalogTool],
    n: int,
    mix: tuple[float, float, float],
    split: str,
    seed: int,
    max_distractors: int = 3,
    seen: set[str] | None = None,
    pairs: float = 0.0,
    refuse_kinds: tuple[float, float, float] = REFUSE_KINDS,
    natural: float = 0.0,
    skipped: dict[str, str] | None = None,
    shapes: float = 0.0,
    near_refusals: float = 0.0,
    harmful_uses: float = 0.0,
    paraphrased_values: bool = False,
    passing: float = 0.0,
) -> list[Record]:
    """``n`` rows over ``tools`` with phrasings from ``split``; prompts in ``seen`` are never repeated.

    ``pairs``: the fraction of clarify rows, and of requests for a tool the row does not offer,
    whose execute twin fills the next execute slot (the behaviors are shuffled, so a twin lands a
    few rows later; a twin that would repeat a prompt is dropped for a fresh execute row).
    ``refuse_kinds``: shares of harmful / out-of-scope / tool-not-offered among refuse rows.
    ``natural``: the share of values said in an everyday surface form (:mod:`.surface`).
    ``near_refusals``: the share of tool-not-offered requests whose list shows a same-domain tool.
    ``harmful_uses``: the share of harmful requests that ask one of the listed tools to do the harm.
    ``paraphrased_values``: when a value is said naturally, enum values in the catalog's per-tool
    phrases and quantities in another unit of the one their description names.
    ``passing``: the share of execute rows written from a tool's in-passing requests, where it has some.
    ``skipped`` collects tools dropped because no valid row could be made for them, with why."""
    skipped = {} if skipped is None else skipped
    maker = _RowMaker(tools, split, random.Random(seed), max_distractors, refuse_kinds, natural, skipped, shapes, near_refusals, harmful_uses, paraphrased_values, passing)
    behaviors = [b for b, c in exact_counts(n, mix).items() for _ in range(c)]
    maker.rng.shuffle(behaviors)
    seen = set() if seen is None else seen
    twins: list[tuple[Record, str]] = []  # (execute twin, its partner's prompt key), oldest first
    orphans: set[int] = set()  # pair ids whose twin repeated a prompt or found no execute slot after it
    rows: list[Record] = []
    for index, behavior in enumerate(behaviors):
        record, key = None, None
        while behavior == "execute" and twins and key is None:
            record, partner_key = twins.pop(0)
            # A twin may repeat its own partner's sentence (a tool not offered), no other.
            candidate = _prompt_key(record)
            if candidate in seen and candidate != partner_key:
                orphans.add(record.raw["extra_info"]["pair"])
            else:
                key = candidate
        for _attempt in range(200):
            if key is not None:
                break
            twin = None
            try:
                if behavior in ("clarify", "refuse") and pairs and maker.rng.random() < pairs:
                    record, twin = maker.clarify_pair() if behavior == "clarify" else maker.refuse_pair()
                else:
                    record = getattr(maker, behavior)()
            except ToolFailed as exc:  # one tool's schema defeats the generator: drop it, go on
                maker.drop(exc.tool, exc.reason)
                continue
            candidate = _prompt_key(record)
            if candidate not in seen:
                key = candidate
                if twin is not None:
                    twins.append((twin, key))
        else:
            raise ValueError(f"could not write a new unique {behavior} prompt after 200 tries: the tools make only so many different requests; ask for fewer rows (--n, --eval-n) or add tools")
        assert record is not None and key is not None
        seen.add(key)
        record.raw["extra_info"].update({"split": split, "index": index})
        rows.append(record)
    orphans |= {twin.raw["extra_info"]["pair"] for twin, _ in twins}
    for record in rows:
        if record.raw["extra_info"].get("pair") in orphans:
            del record.raw["extra_info"]["pair"]
    return rows


def tell_backstories(rows: list[Record], share: float, seed: int) -> None:
    """Put a line of harmless personal background (:data:`BACKSTORIES`) before ``share`` of the
    one-turn requests that are not harmful, in place. A line that shares a word with an enum value of
    the row's tools ("out sick" beside leave_type ``sick``) or a content word with the request is
    passed over: it must not seem to state a value. Drawn per pair (a clarify row and its twin
    usually get the same line) from the seed alone, so no other draw moves. Before the request, never
    after it: after a free-text value ("with the text: We're hiring!") it would read as part of it."""
    # each line's words, and its content words (longer than three letters), read once for every row
    words = {line: (set(_words(line)), {w for w in _words(line) if len(w) > 3}) for line in BACKSTORIES}
    for index, record in enumerate(rows):
        extra = record.raw.get("extra_info") or {}
        prompt = record.raw["prompt"]
        if extra.get("kind") == "harmful" or [m.get("role") for m in prompt] != ["system", "user"]:
            continue
        draw = random.Random(f"backstory|{seed}|{extra.get('pair', f'row{index}')}")
        if draw.random() >= share:
            continue
        text = prompt[1]["content"]
        enums = {w for value in _enum_values(record.raw.get("tools")) for w in _words(str(value))}
        said = {w for w in _words(text) if len(w) > 3}
        order = draw.sample(BACKSTORIES, len(BACKSTORIES))
        line = next((b for b in order if not words[b][0] & enums and not words[b][1] & said), None)
        if line is not None:
            prompt[1] = {**prompt[1], "content": f"{line} {text}"}


def _enum_values(node: Any) -> list[Any]:
    """Every enum value anywhere in a JSON Schema (or a list of tools holding them)."""
    if isinstance(node, dict):
        return [*(node.get("enum") if isinstance(node.get("enum"), list) else []), *(v for value in node.values() for v in _enum_values(value))]
    if isinstance(node, list):
        return [v for value in node for v in _enum_values(value)]
    return []


def share_tool_lists(rows: list[Record], tools: list[CatalogTool], per_list: int, max_tools: int, rng: random.Random) -> None:
    """Give up to ``per_list`` consecutive rows one tool list (in place; ``extra_info.list`` numbers it).

    A clarify row and its execute twin stay together, so their contrast (the same sentence and list,
    the value given or not) survives. A list holds every member's target tool and never the tool a
    tool-not-offered request asks for (its twin, which lists that tool, goes to another list); the
    rest of its room (up to the longest list a member had, at most ``max_tools``) is filled from the
    members' own distractors. A row that does not fit closes the list and opens the next."""
    by_name = {t.name: t for t in tools}
    by_pair: dict[int, list[int]] = {}
    for i, record in enumerate(rows):
        extra = record.raw["extra_info"]
        if "pair" in extra and extra.get("kind") != "tool_not_offered" and record.behavior != "refuse":
            by_pair.setdefault(extra["pair"], []).append(i)
    # Units: a row, or a clarify row with its twin (at the first one's place).
    units, placed = [], set()
    for i, record in enumerate(rows):
        if i in placed:
            continue
        pair = by_pair.get(record.raw["extra_info"].get("pair"), [])
        unit = pair if i in pair else [i]  # a tool-not-offered request's twin is in by_pair alone
        units.append(unit)
        placed.update(unit)

    def needs(unit: list[int]) -> tuple[set[str], set[str]]:
        """(tools the unit's list must hold, tools it must not)."""
        must, never = set(), set()
        for i in unit:
            extra = rows[i].raw["extra_info"]
            if extra.get("kind") == "tool_not_offered":
                never.add(extra["tool"])
                if extra.get("near"):
                    must.add(extra["near"])  # the near neighbour is the row's point: a shared list keeps it
            elif extra.get("tool"):
                must.add(extra["tool"])
            must.update(extra.get("calls") or [])  # a parallel call's second tool, an earlier call's tool
        return must, never

    groups: list[tuple[list[int], set[str], set[str]]] = []  # (rows, tools it must list, tools it must not)
    # A long tool list is the row's point: it keeps its own.
    units = [u for u in units if not any(rows[i].raw["extra_info"].get("shape") == "many_tools" for i in u)]
    for unit in units:
        unit_must, unit_never = needs(unit)
        if groups:
            members, must, never = groups[-1]
            merged_must, merged_never = must | unit_must, never | unit_never
            if len(members) + len(unit) <= per_list and len(merged_must) <= max_tools and not merged_must & merged_never:
                groups[-1] = (members + unit, merged_must, merged_never)
                continue
        groups.append((list(unit), unit_must, unit_never))
    for number, (members, must_set, never) in enumerate(groups):
        must = sorted(must_set)
        size = min(max_tools, max(len(must), *(len(rows[i].tools) for i in members)))
        spare = sorted({t.name for i in members for t in rows[i].tools} - must_set - never)
        names = must + rng.sample(spare, min(len(spare), size - len(must)))
        rng.shuffle(names)
        listed = [by_name[name].tool for name in names]
        for i in members:
            raw = rows[i].raw
            raw["prompt"][0]["content"] = render_system_prompt(listed)
            raw["tools"] = [t.to_openai() for t in listed]
            raw["extra_info"]["list"] = number
            rows[i]._tools = None  # Record caches the tools it parsed


def rename(rows: list[Record], share: float, namespaces: dict[str, str], rng: random.Random) -> None:
    """Rename the tools of a ``share`` of ``rows`` (in place) into a style of :data:`.naming.NAME_STYLES`.
    Rows that share a tool list, and a clarify row with its twin, share the draw: one agent, one style."""
    drawn: dict[Any, str | None] = {}
    for i, record in enumerate(rows):
        extra = record.raw["extra_info"]
        key = ("list", extra["list"]) if "list" in extra else ("pair", extra["pair"]) if "pair" in extra else ("row", i)
        if key not in drawn:
            drawn[key] = rng.choice(NAME_STYLES) if rng.random() < share else None
        if drawn[key] and restyle(record.raw, drawn[key], namespaces):
            record._tools = None  # Record caches the tools it parsed


class ToolFailed(ValueError):
    """No valid row can be made for one tool; the run goes on without it."""

    def __init__(self, tool: str, reason: str):
        super().__init__(f"{tool}: {reason}")
        self.tool, self.reason = tool, reason


class _RowMaker:
    def __init__(self, tools: list[CatalogTool], split: str, rng: random.Random, max_distractors: int, refuse_kinds: tuple[float, float, float] = REFUSE_KINDS, natural: float = 0.0, skipped: dict[str, str] | None = None, shapes: float = 0.0, near_refusals: float = 0.0, harmful_uses: float = 0.0, paraphrased_values: bool = False, passing: float = 0.0):
        self.skipped = {} if skipped is None else skipped
        self.split, self.rng, self.max_distractors = split, rng, max_distractors
        self.refuse_kinds, self.natural, self.shapes, self.near_refusals, self.harmful_uses = refuse_kinds, natural, shapes, near_refusals, harmful_uses
        self.banks, self._year = load_banks(), 0
        self.left_out: dict[str, set[str]] = {}  # tool -> optional parameters no drawn value satisfies
        tools = [t for t in tools if t.name not in self.skipped and self._serves(t)]
        if not tools:
            raise ValueError("no tools to generate rows for" + (": " + _reasons(self.skipped) if self.skipped else ""))
        self.tools = tools
        self.codes: dict[str, list[str]] = self.banks.get("code_names") or {}  # type: ignore[assignment]
        self.enum_words: dict[str, list[str]] = self.banks.get("enum_words") or {}  # type: ignore[assignment]
        # "tool.parameter" -> value -> whole slot phrases ("cheapest first"): per tool, since one
        # value means different things in different tools ("business" cabin vs a business trip).
        self.enum_phrases: dict[str, dict[str, list[str]]] = (self.banks.get("enum_phrases") or {}) if paraphrased_values else {}  # type: ignore[assignment]
        self.paraphrased_values, self.passing = paraphrased_values, passing
        refusals = load_refusals()
        self.harmful: dict[str, list[str]] = refusals["harmful"][split]
        names = {t.name for t in tools}
        self.uses = {name: requests for name, requests in refusals.get("harmful_uses", {}).get(split, {}).items() if name in names}
        self.refusal_texts: list[str] = refusals["refusal_templates"][split]
        self.oos_texts: list[str] = refusals["out_of_scope_refusal_templates"][split]
        self.oos_intents: list[str] = refusals["out_of_scope"][split]
        self.askable = [t for t in tools if t.tool.required]
        self._cycles: dict[int, list[CatalogTool]] = {}

    def _serves(self, ct: CatalogTool) -> bool:
        """Whether valid arguments can be drawn for ``ct`` (tried on a private random stream, so
        the rows drawn afterwards are what they would be without the check); else it is skipped."""
        if ct.hinted:
            return True  # the bundled catalogs are checked by their own tests
        problem = schema_problem(ct.tool.parameters)
        if problem:  # "maxItems": null, "minimum": "0": the schema's own fault, said as the validator says it
            self.skipped[ct.name] = f"its parameters are {problem}" if problem.startswith("not a valid") else problem
            return False
        unlisted = [p for p in ct.tool.required if p not in ct.tool.properties]
        if unlisted:
            self.skipped[ct.name] = f"required {', '.join(map(repr, unlisted))} not among its properties; describe {'it' if len(unlisted) == 1 else 'them'} under 'properties'"
            return False
        saved, self.rng = self.rng, random.Random(ct.name)
        try:
            for required_only in (True, False, False):
                args = {}
                for p in ct.tool.properties:
                    if (required_only and p not in ct.tool.required) or p in self.left_out.get(ct.name, ()):
                        continue
                    try:
                        args[p] = self._value(ct, p)
                    except ToolFailed:
                        if p in ct.tool.required:
                            raise
                        # An optional parameter no value satisfies: calls leave it out, as a user's agent would.
                        self.left_out.setdefault(ct.name, set()).add(p)
                self._check(ct, args)
            return True
        except ToolFailed as exc:
            self.skipped[ct.name] = exc.reason
            return False
        finally:
            self.rng = saved

    def drop(self, name: str, reason: str) -> None:
        """Stop making rows for tool ``name`` (a schema the generator could not serve after all)."""
        self.skipped[name] = reason
        self.tools[:] = [t for t in self.tools if t.name != name]
        self.askable[:] = [t for t in self.askable if t.name != name]
        for cycle in self._cycles.values():
            cycle[:] = [t for t in cycle if t.name != name]
        if not self.tools:
            raise ValueError("no tools left to generate rows for: " + _reasons(self.skipped))

    # -- the three behaviors -------------------------------------------------------------
    def execute(self) -> Record:
        if self.shapes and self.rng.random() < self.shapes:
            return self._shaped(self.rng.choice(SHAPES))
        ct = self._next_tool(self.tools)
        text, args, extra = self._request(ct)
        truth = json.dumps([{"name": ct.name, "arguments": args}], ensure_ascii=False)
        return self._record(ct, text, truth, "execute", extra)

    def _request(self, ct: CatalogTool, opener: bool = True) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """(request, the call's arguments, extra_info) for one call of ``ct``; without ``opener`` no
        greeting leads it (the second request of a message)."""
        style = self.rng.choice(STYLES)
        templates = [t for t in ct.templates if set(ct.tool.required) <= set(_placeholders(t))]
        if self.passing and ct.passing and self.rng.random() < self.passing:  # no draw without it: earlier files stay
            names, fixed, words, text = read_passing(self.rng.choice(ct.passing))
            # A drawn value differs from the written ones too ("12 feet, what's that in feet?" converts nothing).
            drawn = self._in_order(ct, self._distinct(ct, names, taken=list(fixed.values())), always=True)  # written words stay with their value
            values = {**drawn, **fixed}
            args = {p: values[p] for p in _ordered(ct, list(values))}
            # A value in the writer's own words is quoted in the check like any other paraphrase.
            said = {p: w for p, w in words.items() if w.casefold() != self._render(fixed[p]).casefold()}
            text = _fill_template(text, {p: self._say(ct, p, args[p], said, units=False)[0] for p in names}, singular=self.natural > 0)
            frame = "passing"
        elif templates and self.rng.random() < 0.35:
            template = self.rng.choice(templates)
            names = _ordered(ct, _placeholders(template))
            # Plain files keep the draws of earlier versions ("2.5 nautical miles in nautical miles"), byte for byte.
            args = self._in_order(ct, self._distinct(ct, names) if self.natural else {p: self._value(ct, p) for p in names})
            said: dict[str, str] = {}
            # A template writes its own unit words ("{duration_minutes} minutes"): forms that say a unit stay out.
            text = _fill_template(template, {p: self._say(ct, p, v, said, units=False)[0] for p, v in args.items()}, singular=self.natural > 0)
            frame = "template"
        else:
            args = self._arguments(ct)
            text, frame, said = self._phrase(ct, args, style, opener)
        self._check(ct, args)
        return text, args, {"tool": ct.name, "style": style, "frame": frame, **_said(said)}

    def _shaped(self, shape: str) -> Record:
        """An execute row in one of the other shapes agents see (``extra_info.shape`` names it)."""
        ct = self._next_tool(self.tools)
        if shape == "follow_up" and ct.tool.required:
            # The request leaves a required value out, the assistant asked, the next user turn gives it.
            missing = self.rng.choice(ct.tool.required)
            full = self._arguments(ct)
            self._check(ct, full)
            said: dict[str, str] = {}
            slots, asides = self._asides(ct, self._named_slot_phrases(ct, {k: v for k, v in full.items() if k != missing}, said))
            style = self.rng.choice(STYLES)
            text, frame = self._frame(self.rng.choice(ct.intents), [p for _, p in slots], style)
            (_, phrase), = self._named_slot_phrases(ct, {missing: full[missing]}, said)
            reply = self.rng.choice(FOLLOW_UPS[self.split]).replace("{}", phrase)
            turns = [{"role": "user", "content": _with_asides(text, asides)}, {"role": "assistant", "content": self._ask(ct, missing)}, {"role": "user", "content": reply}]
            extra = {"tool": ct.name, "style": style, "frame": frame, "shape": "multi_turn", "turns": "follow_up", **_said(said)}
            return self._turns(self._offered(ct), turns, [(ct, full)], extra)
        if shape in ("after_result", "follow_up"):  # a follow-up needs a required value to ask for: else this
            # An earlier call and its result, then the next request: the answer is the next call.
            first_text, first_args, _ = self._request(ct)
            nxt = self._next_tool(self.tools)
            text, args, extra = self._request(nxt)
            result = {"status": self.rng.choice(["ok", "done", "success"]), **dict(list(first_args.items())[:1])}
            turns = [{"role": "user", "content": first_text}, {"role": "assistant", "content": format_tool_calls([{"name": ct.name, "arguments": first_args}])},
                     {"role": "tool", "content": json.dumps(result, ensure_ascii=False)}, {"role": "user", "content": text}]
            return self._turns(self._with(self._offered(nxt), ct), turns, [(nxt, args)], {**extra, "shape": "multi_turn", "turns": "after_result", "calls": [ct.name, nxt.name]})
        if shape in ("parallel", "same_tool_twice"):
            other = ct if shape == "same_tool_twice" else self.rng.choice([t for t in self.tools if t.name != ct.name] or [ct])
            first_text, first_args, first_extra = self._request(ct)
            for _ in range(5):  # one tool for two values: the two calls must differ
                text, args, extra = self._request(other, opener=False)  # "Also, hello. Could you ..." reads wrong
                if other is not ct or args != first_args:
                    break
            text = re.sub(r"^(?:hey there|hey|hi|hello|good morning)\b[,.!]?\s+", "", text, flags=re.I)  # a frame's own greeting too
            stop = "" if first_text[-1:] in ".?!" else "."
            # the second request goes on mid-sentence: "Is ..." becomes "is ...", a code ("BA117") or "I" stays as typed
            text = text[:1].lower() + text[1:] if re.match(r"[A-Z][a-z]", text) else text
            joined = f"{first_text}{stop} {self.rng.choice(JOINERS[self.split])} {text}"
            said = {**first_extra.get("said", {}), **extra.get("said", {})}
            info = {"tool": ct.name, "style": first_extra["style"], "frame": first_extra["frame"], "shape": "parallel", "calls": [ct.name, other.name], **_said(said),
                    # Per call: "4 pm" and "half past six" for one tool's two start_times cannot share one "said" entry.
                    **({"said_calls": [first_extra.get("said", {}), extra.get("said", {})]} if said else {})}
            return self._turns(self._with(self._offered(ct), other), [{"role": "user", "content": joined}], [(ct, first_args), (other, args)], info)
        # A long tool list, near neighbours first: picking the right one is the whole task.
        text, args, extra = self._request(ct)
        others = [t for t in self.tools if t.name != ct.name]
        neighbours = [t for t in others if t.domain == ct.domain]
        k = min(len(others), self.rng.randint(6, 12) - 1)
        chosen = neighbours[:k] + self.rng.sample([t for t in others if t not in neighbours], max(0, k - len(neighbours)))
        offered = [*chosen[:k], ct]
        self.rng.shuffle(offered)
        return self._turns(offered, [{"role": "user", "content": text}], [(ct, args)], {**extra, "shape": "many_tools"})

    def _with(self, offered: list[CatalogTool], ct: CatalogTool) -> list[CatalogTool]:
        """``offered`` with ``ct`` in it (at a random place when it was not)."""
        if any(t.name == ct.name for t in offered):
            return offered
        offered = list(offered)
        offered.insert(self.rng.randint(0, len(offered)), ct)
        return offered

    def _turns(self, offered: list[CatalogTool], turns: list[dict[str, str]], calls: list[tuple[CatalogTool, dict[str, Any]]], extra: dict[str, Any]) -> Record:
        """An execute row whose prompt is ``turns`` after the system turn; ``calls`` were checked when drawn."""
        truth = json.dumps([{"name": ct.name, "arguments": args} for ct, args in calls], ensure_ascii=False)
        record = self._build(offered, turns[-1]["content"], truth, "execute", extra)
        record.raw["prompt"] = record.raw["prompt"][:1] + turns
        return record

    def clarify(self) -> Record:
        ct = self._next_tool(self.askable or self.tools)
        if not ct.tool.required:  # only user catalogs without any required parameter get here
            return self.execute()
        missing = self.rng.choice(ct.tool.required)
        full = self._without_hints(ct, missing, self._arguments(ct))
        args = {k: v for k, v in full.items() if k != missing}
        style = self.rng.choice(STYLES)
        said: dict[str, str] = {}
        intent = self.rng.choice(ct.intents)
        slots, asides = self._asides(ct, self._named_slot_phrases(ct, args, said))
        decoy = self._decoy(ct, missing, args)
        text, frame = self._frame(intent, [p for _, p in slots] + ([decoy] if decoy else []), style)
        extra = {"tool": ct.name, "style": style, "frame": frame, "missing": [missing], "arguments": args, **_said(said), **({"vague": decoy} if decoy else {})}
        return self._record(ct, _with_asides(text, asides), self._ask(ct, missing), "clarify", extra)

    def clarify_pair(self) -> tuple[Record, Record | None]:
        """A clarify row and its execute twin: the same tools, intent, frame and slot phrases, the
        twin with the missing value's phrase in it. (None for the twin when no tool requires anything.)"""
        ct = self._next_tool(self.askable or self.tools)
        if not ct.tool.required:
            return self.execute(), None
        missing = self.rng.choice(ct.tool.required)
        full = self._without_hints(ct, missing, self._arguments(ct))
        self._check(ct, full)
        style = self.rng.choice(STYLES)
        intent = self.rng.choice(ct.intents)
        said: dict[str, str] = {}
        chosen: dict[str, str] = {}
        slots, asides = self._asides(ct, self._named_slot_phrases(ct, full, said, chosen))
        # The clarify sentence may hold a vague stand-in where its twin says the value.
        decoy = self._decoy(ct, missing, full, chosen.get(missing)) if missing not in dict(asides) else None
        ask_slots = [decoy if name == missing else phrase for name, phrase in slots if name != missing or decoy]
        # Both sentences draw the frame, opener and closer from the same random state.
        state = self.rng.getstate()
        call_text, frame = self._frame(intent, [phrase for _, phrase in slots], style)
        self.rng.setstate(state)
        ask_text, _ = self._frame(intent, ask_slots, style)
        offered = self._offered(ct)
        pair = self.rng.randrange(1 << 30)
        args = {k: v for k, v in full.items() if k != missing}
        ask_said = _said({k: v for k, v in said.items() if k != missing})
        ask_extra = {"tool": ct.name, "style": style, "frame": frame, "missing": [missing], "arguments": args, "pair": pair, **ask_said, **({"vague": decoy} if decoy else {})}
        ask = self._build(offered, _with_asides(ask_text, [a for a in asides if a[0] != missing]), self._ask(ct, missing), "clarify", ask_extra)
        truth = json.dumps([{"name": ct.name, "arguments": full}], ensure_ascii=False)
        call = self._build(offered, _with_asides(call_text, asides), truth, "execute", {"tool": ct.name, "style": style, "frame": frame, "pair": pair, **_said(said)})
        return ask, call

    def refuse(self) -> Record:
        return self.refuse_pair(twin=False)[0]

    def refuse_pair(self, twin: bool = True) -> tuple[Record, Record | None]:
        """A refuse row and its execute twin: for a request for a tool the row does not offer, the
        same sentence with that tool added to the list; for a harmful use of a listed tool, a
        harmless request to that tool beside the same list (None for the other kinds of refusal)."""
        roll = self.rng.random()
        harmful, out_of_scope, _ = self.refuse_kinds
        style = self.rng.choice(STYLES)
        offered = self.rng.sample(self.tools, k=min(len(self.tools), self.rng.randint(1, 1 + self.max_distractors)))
        if roll < harmful:
            category, misused = self.rng.choice(sorted(self.harmful)), None
            # (No draw at all when off: the default files stay byte for byte what they were.)
            if self.uses and self.harmful_uses and self.rng.random() < self.harmful_uses:
                misused = self.rng.choice(sorted(self.uses))
                category = "harmful_use"
                if misused not in {t.name for t in offered}:
                    offered[self.rng.randrange(len(offered))] = next(t for t in self.tools if t.name == misused)
            wrap = self.rng.choice(REFUSE_WRAPS[self.split][style])
            request = self.rng.choice(self.uses[misused] if misused else self.harmful[category]).strip()
            if not wrap.endswith("{text}") and request[-1:] not in ".?!":
                request += "."
            text = wrap.replace("{text}", request)
            truth = self.rng.choice(self.refusal_texts)
            extra = {"kind": "harmful", "category": category, "style": style, **({"tool": misused} if misused else {})}
            if not (twin and misused):
                return self._build(offered, text, truth, "refuse", extra), None
            # The contrast per tool: a harmless request to the tool a harmful use misuses, beside the
            # same list. Without it the misused tools' training rows lean to refusals, and the model
            # learns to refuse the tool (donations, city reports) rather than the harm.
            tool = next(t for t in offered if t.name == misused)
            request, args, call_extra = self._request(tool)
            extra["pair"] = self.rng.randrange(1 << 30)
            call = json.dumps([{"name": tool.name, "arguments": args}], ensure_ascii=False)
            return self._build(offered, text, truth, "refuse", extra), self._build(offered, request, call, "execute", {**call_extra, "pair": extra["pair"]})
        if roll < harmful + out_of_scope or len(self.tools) < 3:
            intent = self.rng.choice(self.oos_intents)
            text, frame = self._frame(intent, [], style)
            return self._build(offered, text, self.rng.choice(self.oos_texts).replace("{intent}", intent), "refuse", {"kind": "out_of_scope", "style": style, "frame": frame}), None
        # A real request for a tool the row does not offer: the model must read the tool list.
        target = self.rng.choice(self.tools)
        others = [t for t in self.tools if t.name != target.name and t.domain != target.domain] or [t for t in self.tools if t.name != target.name]
        offered = self.rng.sample(others, k=min(len(others), self.rng.randint(1, 1 + self.max_distractors)))
        same_domain = [t for t in self.tools if t.name != target.name and t.domain == target.domain]
        # (No draw at all when off: the default files stay byte for byte what they were.)
        neighbour = self.rng.choice(same_domain) if same_domain and self.near_refusals and self.rng.random() < self.near_refusals else None
        if neighbour is not None:
            offered[self.rng.randrange(len(offered))] = neighbour
        intent = self.rng.choice(target.intents)
        args = self._arguments(target)
        said: dict[str, str] = {}
        text, frame = self._frame(intent, self._slot_phrases(target, args, said), style)
        truth = self.rng.choice(self.oos_texts).replace("{intent}", intent)
        extra = {"kind": "tool_not_offered", "tool": target.name, "style": style, "frame": frame, **({"near": neighbour.name} if neighbour else {})}
        if not twin:
            return self._build(offered, text, truth, "refuse", extra), None
        self._check(target, args)
        listed = list(offered)
        listed.insert(self.rng.randint(0, len(listed)), target)
        extra["pair"] = self.rng.randrange(1 << 30)
        call = json.dumps([{"name": target.name, "arguments": args}], ensure_ascii=False)
        return self._build(offered, text, truth, "refuse", extra), self._build(listed, text, call, "execute", {"tool": target.name, "style": style, "frame": frame, "pair": extra["pair"], **_said(said)})

    # -- pieces ----------------------------------------------------------------------------
    def _next_tool(self, pool: list[CatalogTool]) -> CatalogTool:
        """Round-robin over a shuffled pool, so every tool gets its share of rows."""
        self._year = 0  # a new row: its dates draw their year afresh
        cycle = self._cycles.setdefault(id(pool), [])
        if not cycle:
            cycle.extend(pool)
            self.rng.shuffle(cycle)
        return cycle.pop()

    def _record(self, ct: CatalogTool, text: str, truth: str, behavior: str, extra: dict[str, Any]) -> Record:
        return self._build(self._offered(ct), text, truth, behavior, extra)

    def _offered(self, ct: CatalogTool) -> list[CatalogTool]:
        """``ct`` among 0..max_distractors other tools, in random order."""
        others = [t for t in self.tools if t.name != ct.name]
        k = min(len(others), self.rng.randint(0, self.max_distractors))
        same_domain = [t for t in others if t.domain == ct.domain]
        distractors = self.rng.sample(others, k)
        if same_domain and distractors and self.rng.random() < 0.5 and not any(t.domain == ct.domain for t in distractors):
            distractors[0] = self.rng.choice(same_domain)  # a near neighbour makes tool choice a real decision
        offered = distractors + [ct]
        self.rng.shuffle(offered)
        return offered

    def _build(self, offered: list[CatalogTool], text: str, truth: str, behavior: str, extra: dict[str, Any]) -> Record:
        tools: list[Tool] = [t.tool for t in offered]
        record = make_record(render_system_prompt(tools), text, truth, behavior, data_source="tooltune/synthetic", extra_info=extra)  # type: ignore[arg-type]
        record.raw["tools"] = [t.to_openai() for t in tools]
        return record

    def _arguments(self, ct: CatalogTool) -> dict[str, Any]:
        # Natural requests state an optional value more often (a stated one the call must carry).
        share = 0.4 if self.natural else 0.3
        chosen = [p for p in ct.tool.properties if (p in ct.tool.required or self.rng.random() < share) and p not in self.left_out.get(ct.name, ())]
        args = self._distinct(ct, chosen)
        if not ct.hinted:  # an optional object or list drawn empty says nothing ("Also filters: ."): left out
            args = {p: v for p, v in args.items() if p in ct.tool.required or v not in ({}, [])}
        return self._in_order(ct, args)

    def _without_hints(self, ct: CatalogTool, missing: str, args: dict[str, Any]) -> dict[str, Any]:
        """``args`` less the optional values that say what the missing one would be: a clarify row
        that asks "Which city?" must not hold one ("commute to 410 Lakeshore Boulevard, Chicago")."""
        names = [v for v in self._listed(ct, missing) if isinstance(v, str) and len(v) > 2]
        if not self.natural or not names:
            return args
        said = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, names)) + r")(?!\w)", re.I)
        return {k: v for k, v in args.items() if k == missing or k in ct.tool.required or not said.search(json.dumps(v, ensure_ascii=False))}

    def _distinct(self, ct: CatalogTool, names: list[str], taken: list[Any] | None = None) -> dict[str, Any]:
        """A value for each of ``names``, redrawn (up to 5 times) where it repeats an earlier one or
        one of ``taken``: origin and destination, or from_unit and to_unit, drawn from one bank must differ."""
        args: dict[str, Any] = {}
        for name in names:
            value = self._value(ct, name)
            for _ in range(5):
                if value not in [*args.values(), *(taken or [])]:
                    break
                value = self._value(ct, name)
            args[name] = value
        return args

    def _in_order(self, ct: CatalogTool, args: dict[str, Any], always: bool = False) -> dict[str, Any]:
        """A call's dates in schema order are a range (check_in, check_out; start_date, end_date): drawn
        apart, they are sorted so that none runs backwards. Plain files (``natural=0``) keep the
        draws of earlier versions, so the benchmark files they write stay byte for byte the same
        (``always``: rows no earlier version wrote are ordered whatever ``natural`` says)."""
        if not self.natural and ct.hinted and not always:  # only the bundled catalogs' plain files are pinned byte for byte
            return args
        # The bundled catalogs list a range's dates in order; a user's schema may not (return_date
        # before depart_date), so there the named pairs below decide.
        names = [p for p in ct.tool.properties if ct.hinted and isinstance(args.get(p), str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", args[p])
                 and family_of(p, ct.tool.properties.get(p) or {}, ct.tool.properties) == "date"]
        for name, value in zip(names, sorted(args[n] for n in names)):
            args[name] = value
        # Named bounds: start_time before end_time, min_price under max_price, since before until.
        for low, high, word in _bounds([p for p in ct.tool.properties if p in args]):
            a, b = args[low], args[high]
            if _after(a, b, numbers=word not in _TIME_BOUNDS):
                swapped = {**args, low: b, high: a}
                if not argument_problems(ct.tool, swapped):
                    args = swapped
        if not ct.hinted:  # a user's tool: ranges of a usual length, inside nested objects too
            args = self._spans(ct, args)
        return args

    def _spans(self, ct: CatalogTool, args: dict[str, Any]) -> dict[str, Any]:
        """A user's ranges drawn apart run from minutes to years ("a guitar lesson from May 2026 to
        April 2027"): an end date-time comes 30 minutes to 3 hours after its start, an end date 1 to
        14 days after; the same inside nested objects (a metrics query's ``range.from`` / ``range.to``),
        where the pair is also put in order. Kept only where the call still validates."""

        def spanned(values: dict[str, Any]) -> dict[str, Any]:
            values = {k: spanned(v) if isinstance(v, dict) else v for k, v in values.items()}
            for low, high, _word in _bounds(list(values)):
                start, end = values[low], values[high]
                if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (start, end)) and start > end:
                    values[low], values[high] = end, start  # a nested salary range's min over its max
                    continue
                if not (isinstance(start, str) and isinstance(end, str)):
                    continue
                later = None
                if re.fullmatch(r"\d{4}-\d{2}-\d{2}", start) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", end):
                    later = (dt.date.fromisoformat(start) + dt.timedelta(days=self.rng.randint(1, 14))).isoformat()
                elif re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})?", start) and re.fullmatch(r"\d{4}-\d{2}-\d{2}T.+", end):
                    try:
                        moment = dt.datetime.fromisoformat(start.replace("Z", "+00:00")) + dt.timedelta(minutes=self.rng.choice((30, 45, 60, 90, 120, 180)))
                    except ValueError:
                        continue
                    later = moment.isoformat().replace("+00:00", "Z") if start.endswith("Z") else moment.isoformat()
                    if re.fullmatch(r".*T\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})?", start):  # the start's own precision
                        later = re.sub(r"(T\d{2}:\d{2}):00", r"\1", later)
                if later is not None:
                    values[high] = later
            return values

        candidate = spanned(copy.deepcopy(args))
        return candidate if not argument_problems(ct.tool, candidate) else args

    def _phrase(self, ct: CatalogTool, args: dict[str, Any], style: str, opener: bool = True) -> tuple[str, str, dict[str, str]]:
        """(request, frame, what it says for each value not in the call's form)."""
        said: dict[str, str] = {}
        intent = self.rng.choice(ct.intents)
        slots, asides = self._asides(ct, self._named_slot_phrases(ct, args, said))
        text, frame = self._frame(intent, [p for _, p in slots], style, opener)
        return _with_asides(text, asides), frame, said

    def _frame(self, intent: str, slots: list[str], style: str, lead: bool = True) -> tuple[str, str]:
        frames = FRAMES[self.split][style]
        index = self.rng.randrange(len(frames))
        joiner = ", " if style == "terse" and self.rng.random() < 0.5 else " "
        body = frames[index].replace("{Intent}", intent[:1].upper() + intent[1:]).replace("{intent}", intent).replace("{slots}", joiner.join(slots))
        opener = self.rng.choice(OPENERS[self.split][style]) if lead else (self.rng.choice(OPENERS[self.split][style]), "")[1]  # drawn either way: the rows after stay the same
        closer = self.rng.choice(CLOSERS[self.split][style])
        body = _tidy(body, self.natural > 0)
        if self.natural:  # "ok" before "ok so ...", "now." after "... right now": one is enough
            short = _words(opener) if len(_words(opener)) <= 2 else _words(opener)[-1:]  # a greeting's words, a sentence's last
            opener = "" if set(_words(body)[:1]) & set(short) else opener  # "hey there, hey, can you"
            closer = "" if _words(closer)[:1] == _words(body)[-1:] else closer
        text = " ".join(part for part in (opener, body, closer) if part)
        return text, f"{self.split}.{style}.{index}"

    def _slot_phrases(self, ct: CatalogTool, args: dict[str, Any], said: dict[str, str]) -> list[str]:
        return [phrase for _, phrase in self._named_slot_phrases(ct, args, said)]

    def _named_slot_phrases(self, ct: CatalogTool, args: dict[str, Any], said: dict[str, str] | None = None, slots: dict[str, str] | None = None) -> list[tuple[str, str]]:
        """(parameter, phrase) for each argument, e.g. ("city", "in Lima"); ``said`` collects the
        surface form of each value said otherwise than the call writes it, ``slots`` the catalog slot
        phrase each value went into ("in {}")."""
        phrases = []
        said = {} if said is None else said
        for name, value in args.items():
            spec = ct.slots.get(name)
            if isinstance(spec, dict):
                options = spec.get("true" if value else "false") or [f"with {humanize(name)} {'on' if value else 'off'}"]
                phrases.append((name, self.rng.choice(options)))
            elif isinstance(spec, list) and spec:
                text, family = self._say(ct, name, value, said, phrase=True)
                slot = self.rng.choice(spec)
                if slots is not None:
                    slots[name] = slot
                phrases.append((name, text if family == ENUM_PHRASE else fill_slot(slot, text, family, seams=self.natural > 0)))
            else:
                text, family = self._say(ct, name, value, said)
                # "length 111 mm", not "length mm 111 mm": the value says its unit itself
                label = re.sub(r"_[a-z]+$", "", name) if (family or "").startswith("unit:") and "_" in name and unit_of(name, "") else name
                phrases.append((name, self.rng.choice(GENERIC_SLOTS).format(name=humanize(label), value=text)))
        # Required values first in natural order most of the time; shuffled sometimes for variety.
        if self.rng.random() < 0.3:
            self.rng.shuffle(phrases)
        return phrases

    def _say(self, ct: CatalogTool, name: str, value: Any, said: dict[str, str], units: bool = True, phrase: bool = False) -> tuple[str, str | None]:
        """(how the request says ``value``, its surface family); with probability ``natural`` an
        everyday form (:mod:`.surface`) or a word for an enum value, recorded in ``said``. With
        ``phrase`` (the caller can use a whole slot phrase), an enum value may come back as the
        tool's own phrase for it, family ``ENUM_PHRASE``."""
        canonical = self._render(value)
        if not self.natural or self.rng.random() >= self.natural:
            return canonical, None
        schema = ct.tool.properties.get(name) or {}
        family = family_of(name, schema, ct.tool.properties, units=self.paraphrased_values)
        if not units and (family in ("minutes", "days", "percent") or (family or "").startswith("unit:")):
            return canonical, None
        if schema.get("enum"):
            phrases = self.enum_phrases.get(f"{ct.name}.{name}", {}).get(value) if phrase and isinstance(value, str) else None
            if phrases:
                said[name] = text = self.rng.choice(phrases)
                return text, ENUM_PHRASE
            # The word bank knows the bundled tools' meanings ("advanced" as a skill level); a user's enum may mean another.
            words = self.enum_words.get(value) if isinstance(value, str) and ct.hinted else None
            text = self.rng.choice(words) if words else None
        else:
            text, _ = render(value, family, self.rng, self.split, self.codes if isinstance(value, str) and value in self.codes else None)
        if text is None or text == canonical:
            return canonical, None
        if text.casefold() != canonical.casefold():  # case alone is no reading: scoring ignores it
            said[name] = text
        return text, family

    def _asides(self, ct: CatalogTool, slots: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """(inline slots, asides): sometimes an optional value is said in passing after the request."""
        if not self.natural:
            return slots, []
        inline, asides = [], []
        for name, phrase in slots:
            (asides if name not in ct.tool.required and self.rng.random() < 0.35 else inline).append((name, phrase))
        return inline, [(name, self.rng.choice(ASIDES[self.split]).replace("{}", phrase)) for name, phrase in asides]

    def _decoy(self, ct: CatalogTool, missing: str, given: dict[str, Any], slot: str | None = None) -> str | None:
        """Sometimes, in a clarify request, a vague stand-in where the missing value would be
        ("sometime soon"), only where it cannot be read as a value the request gives."""
        if not self.natural or self.rng.random() >= 0.35:
            return None
        props = ct.tool.properties
        family = family_of(missing, props.get(missing) or {}, props, units=self.paraphrased_values)
        # A name without its code ("in pounds sterling" for GBP) is no stand-in: it names the value,
        # and a row that asks "Which currency?" after it teaches asking for what was given.
        # "from 6 pm sometime in the morning": a second time of the call's kind reads as a contradiction.
        if family in ("date", "time") and any(family_of(k, props.get(k) or {}, props) == family for k in given if k != missing):
            return None
        # "my numbers" stands for numbers only ("find a recipe with my numbers").
        items = (props.get(missing) or {}).get("items") or {}
        if family == "list" and items.get("type") not in ("number", "integer"):
            return None
        if family == "text":  # "from the same place as last time": inside the slot's own words, or not at all
            spec = ct.slots.get(missing)
            if not isinstance(spec, list) or not spec or not (stand_in := vague(family, self.rng, missing)):
                return None
            # The twin's own slot words where it has them: the pair then differs in the value alone.
            return (slot or self.rng.choice(spec)).replace("{}", stand_in)
        return vague(family, self.rng)

    def _ask(self, ct: CatalogTool, missing: str) -> str:
        lead = self.rng.choice(ASK_LEADS[self.split])
        own = ct.ask.get(missing)
        ask = own if own and self.rng.random() < 0.75 else self.rng.choice(GENERIC_ASKS[self.split]).format(name=self._asked_name(ct, missing))
        opening = _words(lead)[:2]
        # "Happy to help. Happy to help. Could you ...", "Sure! Sure, what ...": one opener is enough
        # (plain-value files keep the old answers, byte for byte); a user's tool, whose files no
        # earlier version pinned, never gets two ("I can help with that. Happy to help. ...").
        if not ct.hinted and lead and _words(ask)[:1] and _words(ask)[0] in ("sure", "happy", "of", "glad"):
            return ask
        return ask if self.natural and opening and _words(ask)[: len(opening)] == opening else lead + ask

    @staticmethod
    def _asked_name(ct: CatalogTool, name: str) -> str:
        """How a question names a parameter: for a user's tool its short description where it has
        one ("Invitee email addresses", not "attendees"), else its name in words."""
        schema = ct.tool.properties.get(name)
        said = str(schema.get("description") or "").strip().rstrip(".") if isinstance(schema, dict) and not ct.hinted else ""
        said = re.sub(r"^(?:the|a|an)\s+", "", said, flags=re.I)
        # a noun phrase, not "How often to export", "Start date YYYY-MM-DD" or "Whether to ..."
        noun = said and not re.match(r"(?:how|what|when|where|which|whether|who|if|set|use|true|false|optional|required)\b", said, re.I) and not re.search(r"\b[A-Z]{3,}\b", said)
        if noun and len(said.split()) <= 4 and re.fullmatch(r"[A-Za-z][A-Za-z /'-]*", said):
            return said if said[:2].isupper() else said[0].lower() + said[1:]
        return humanize(name)

    def _value(self, ct: CatalogTool, name: str) -> Any:
        value = self._bank_value(ct, name)
        # People type names in lower case; the call copies what they typed (scoring ignores case),
        # so the model learns to copy a name rather than to re-case one it may not know.
        schema = ct.tool.properties.get(name) or {}
        if self.natural and isinstance(value, str) and not value.isupper() and family_of(name, schema, ct.tool.properties) == "text" and self.rng.random() < 0.2 \
                and not (isinstance(schema, dict) and {"const", "enum", "pattern", "format"} & schema.keys()):  # "Bearer" as a const, "America/New_York" by a pattern: as written
            return value.lower()
        return value

    def _listed(self, ct: CatalogTool, name: str) -> list[Any]:
        """The values a catalog tool's hints list for ``name``: its own list, or a bank's ("@city")."""
        spec = ct.values.get(name)
        if isinstance(spec, str) and spec.startswith("@"):
            return self.banks.get(spec[1:]) or []
        return spec if isinstance(spec, list) else []

    def _bank_value(self, ct: CatalogTool, name: str) -> Any:
        listed = self._listed(ct, name)
        if listed:
            value = copy.deepcopy(self.rng.choice(listed))
            if ct.values.get(name) == "@date" and self.natural:  # the bank's dates are one year; people write others
                self._year = self._year or self.rng.choice(_YEARS)  # one year a row, so ranges stay ordered
                value = f"{self._year}{value[4:]}"
            return value
        if not ct.hinted:  # a user's tool: the schema, its name and description say what fits
            try:
                return draw(name, ct.tool.properties.get(name) or {}, self.rng, self.banks, root=ct.tool.parameters, tool=ct.name)
            except NoValue as exc:
                raise ToolFailed(ct.name, str(exc)) from exc
            except (TypeError, ValueError, AttributeError, KeyError, RecursionError) as exc:  # a schema the drawing does not follow: this tool's problem, not the run's
                raise ToolFailed(ct.name, f"no value could be drawn for '{name}' ({type(exc).__name__}: {str(exc)[:120]})") from exc
        # The bundled catalogs keep this older drawing, so their files stay byte for byte what they were.
        return self._from_schema(name, ct.tool.properties.get(name) or {})

    def _from_schema(self, name: str, schema: dict[str, Any]) -> Any:
        rng = self.rng
        if schema.get("enum"):
            return rng.choice(schema["enum"])
        kind = schema.get("type", "string")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "string")
        if kind == "boolean":
            return rng.random() < 0.5
        if kind == "integer":
            low = int(schema.get("minimum", 1))
            high = int(schema.get("maximum", max(low + 9, 10)))
            return rng.randint(low, min(high, low + 50))
        if kind == "number":
            if "minimum" in schema or "maximum" in schema:
                low = float(schema.get("minimum", 0))
                high = float(schema.get("maximum", low + 100))
                value = round(rng.uniform(low, high), 1 if high - low < 20 else 0)
                return int(value) if float(value).is_integer() else value
            return rng.choice(_NICE_AMOUNTS)
        if kind == "array":
            items = schema.get("items") or {"type": "string"}
            count = rng.randint(max(int(schema.get("minItems", 2)), 1), max(int(schema.get("maxItems", 5)), 2))
            if items.get("type") in ("number", "integer") and "minimum" not in items:
                return rng.sample(range(1, 200), k=count) if items.get("type") == "integer" or rng.random() < 0.7 else [round(rng.uniform(1, 100), 1) for _ in range(count)]
            values: list[Any] = []
            for _ in range(count * 3):
                value = self._from_schema(name, items)
                if value not in values:
                    values.append(value)
                if len(values) == count:
                    break
            return values
        if kind == "object":
            props = schema.get("properties") or {}
            required = set(schema.get("required") or [])
            return {k: self._from_schema(k, s) for k, s in props.items() if k in required or rng.random() < 0.5}
        if schema.get("format") == "date":
            return rng.choice(self.banks["date"])
        lowered = name.lower()
        for word, bank in _NAME_BANKS:
            if word in lowered and self.banks.get(bank):
                return rng.choice(self.banks[bank])
        return rng.choice(self.banks.get("topic") or ["example"])

    @staticmethod
    def _render(value: Any, nested: bool = False) -> str:
        if value is None:
            return "none"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float):
            return str(int(value)) if value.is_integer() else repr(value)
        # The outer list or object reads as prose ("3, 8, 11"; "city Paris, days 3"); one inside it keeps
        # its brackets, so [[37, 10], [8, 5]] is not said as four numbers.
        if isinstance(value, list):
            text = ", ".join(_RowMaker._render(v, True) for v in value)
            return f"[{text}]" if nested else text
        if isinstance(value, dict):
            text = ", ".join(f"{humanize(k)} {_RowMaker._render(v, True)}" for k, v in value.items())
            return f"({text})" if nested else text
        return str(value)

    @staticmethod
    def _check(ct: CatalogTool, args: dict[str, Any]) -> None:
        problems = argument_problems(ct.tool, args)
        if problems:
            fix = "fix its hints" if ct.hinted else "its schema may be stricter than the generator can serve"
            raise ToolFailed(ct.name, f"drew arguments its schema refuses ({problems[0][0] or 'arguments'}: {problems[0][1]}); {fix}")


def _reasons(skipped: dict[str, str]) -> str:
    """Skipped tools and why, for an error message."""
    return "; ".join(f"{name}: {why}" for name, why in skipped.items())


def _said(said: dict[str, str]) -> dict[str, Any]:
    """``extra_info`` entry for the values a request says otherwise than the call (none: no entry)."""
    return {"said": dict(said)} if said else {}


def _with_asides(text: str, asides: list[tuple[str, str]]) -> str:
    return " ".join([text, *(_SENTENCE_END.sub(r"\1", aside) for _, aside in asides)])


def _prompt_key(record: Record) -> str:
    """The request as uniqueness sees it (every user turn): case and spacing do not make a prompt new."""
    users = [m["content"] for m in record.prompt if m.get("role") == "user"]
    return " ".join(" | ".join(users).casefold().split())


def _placeholders(template: str) -> list[str]:
    return re.findall(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", template)


# The first word of each pair bounds a range from below: min_price / max_price, startDateTime / endDateTime.
_BOUND_WORDS = {"start": "end", "begin": "end", "min": "max", "minimum": "maximum", "from": "to", "since": "until",
                "earliest": "latest", "low": "high", "lower": "upper", "first": "last", "in": "out", "checkin": "checkout",
                "departure": "return", "depart": "return", "outbound": "return", "pickup": "dropoff", "arrival": "departure",
                "after": "before"}


# Bounds that order times, not numbers: from_account_id / to_account_id are no range.
_TIME_BOUNDS = {"from", "since", "earliest", "in", "checkin", "departure", "depart", "outbound", "pickup", "arrival", "after"}


def _bounds(names: list[str]) -> list[tuple[str, str, str]]:
    """(lower, upper, bound word) parameter pairs whose names differ only in a bound word."""
    words = {n: name_words(n) for n in names}
    pairs = []
    for low in names:
        for high in names:
            a, b = words[low], words[high]
            if len(a) == len(b) and sum(x != y for x, y in zip(a, b)) == 1:
                word = next((x for x, y in zip(a, b) if x != y), "")
                if _BOUND_WORDS.get(word) == next(y for x, y in zip(a, b) if x != y):
                    pairs.append((low, high, word))
    return pairs


def _after(a: Any, b: Any, numbers: bool = True) -> bool:
    """Whether bound ``a`` lies after ``b``: two numbers (with ``numbers``), two ISO dates or HH:MM
    times, or two date-times by their instant (offsets may differ); anything else is no range."""
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b)):
        return numbers and a > b
    if not (isinstance(a, str) and isinstance(b, str)):
        return False
    if any(re.fullmatch(f, a) and re.fullmatch(f, b) for f in (r"\d{4}-\d{2}-\d{2}", r"\d{2}:\d{2}(:\d{2})?")):
        return a > b  # one fixed-width form: the text sorts as the value
    stamp = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?"
    if not (re.fullmatch(stamp, a) and re.fullmatch(stamp, b)):
        return False
    try:
        return dt.datetime.fromisoformat(a) > dt.datetime.fromisoformat(b)
    except (ValueError, TypeError):  # a field out of range; one with an offset and one without
        return False


def _ordered(ct: CatalogTool, names: list[str]) -> list[str]:
    """Arguments in schema order, so ground truths are canonical whatever the sentence order."""
    return [p for p in ct.tool.properties if p in names]


def _fill_template(template: str, values: dict[str, str], singular: bool = False) -> str:
    """``template`` with each ``{name}`` said as ``values`` says it; with ``singular`` (natural
    files: plain ones stay byte for byte), "compounded {n} times" said with 1 says "1 time"."""
    if singular:
        for name, text in values.items():
            template = singular_after_one(template, "{" + name + "}", text)
    return re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: values.get(m.group(1), m.group(0)), template)


# A value that ends a sentence ends it once: "...missing a flag.." (an ellipsis stays).
_SENTENCE_END = re.compile(r"(?<!\.)([.?!])\.(?=\s|$)")  # "main..feature", "../src" and "1..10" stay


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _tidy(text: str, keep_leading_dots: bool = False) -> str:
    """Clean the seams an empty slot list leaves: double spaces, space before punctuation.
    ``keep_leading_dots`` spares a value that starts with one (".io"); plain-value files keep the
    old seam rule so they stay byte for byte what earlier versions wrote."""
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s+([?.!,])(?=\s|$|[?!,]|\.(?:\s|$))" if keep_leading_dots else r"\s+([?.!,])", r"\1", text)
    text = re.sub(r",([?.!])", r"\1", text)
    if keep_leading_dots:
        text = _SENTENCE_END.sub(r"\1", text)
    return text.strip()

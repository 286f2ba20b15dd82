"""Tool calls that fit their tools' schemas by construction: schema-constrained decoding.

A 135M model that has read a tool's schema still writes ``"year": "2027"`` for an integer, a
parameter the tool does not have (``minItems``), a flat ``"vehicle": "car"`` for an object, or a
value outside an enum. Inside ``<TOOLCALL>...</TOOLCALL>`` this decodes only tokens that keep the
JSON a valid call of one of the offered tools (names, parameter names, types, enums, patterns,
required parameters, nesting); the ``<think>`` check, questions and refusals stay free text, so
the model still decides whether to call, which tool and which values. Serving stacks do the same
(vLLM's and llama.cpp's grammars, "strict" function calling).

Built on XGrammar (a token mask per step from the JSON schema, compiled in milliseconds): a
JSON-schema grammar engine is exactly the kind of thing not to write by hand. A tool list whose
schema XGrammar cannot compile decodes without the grammar, with a warning that names its tools.

The same grammar can keep the check honest (``ground_quotes``): the check quotes the request's
words for each value before the call's form (``location = "leeds"``, ``start_time = "4 pm" ->
"16:00"``), and every quote in the generated training checks is such a span (docs/ablations.md).
A small model still misquotes ("Ledger" for "Leeds", "tennis" for a badminton court); with
grounding a quote can only be a run of whole words from the conversation's user and tool messages
(as written or in lower case), so the model picks the span and cannot invent one. With it the check
also keeps the form training writes (:func:`check_grammar`: an offered tool, its own parameters,
required ones in order) and the answer follows the check as training taught: all required values
given, the call; one ``missing``, a question; a refusal's sentence, no call. A call's check must also
name each optional parameter the user's words talk about (``reading.named_optional``), with its value
or ``missing``: a small model often stops before a value said in passing ("text me when it's ready").

Evaluation and serving use it (``constrain_calls``, ``ground_quotes``); training never does:
rewards score what the model writes on its own, so RLVR still pays the model for writing valid calls.
"""

from __future__ import annotations

import json
import re
import warnings
from typing import Any

from .reading import SPANNED, ToolResult, _words_enum, currency_in, currency_param, name_before_noun, named_optional, number_after_name, numbers_in, own_words, param_family, quote_sources, values_in
from .schema import THINK_CLOSE, THINK_OPEN, Tool

__all__ = ["CALL_TAG", "REFUSALS", "ToolResult", "call_schema", "check_grammar", "quote_grammar", "quote_sources", "stated_params", "CallGrammars", "CallMatcher", "CallConstraint", "grammars_for", "require"]

CALL_TAG = ("<TOOLCALL>", "</TOOLCALL>")  # the canonical call format (schema.toolcalls.format_tool_calls)


def call_schema(tools: list[Tool], parallel: bool = True) -> dict[str, Any]:
    """The JSON schema of a ``<TOOLCALL>`` body for ``tools``: one or more calls (exactly one when
    not ``parallel``), each naming one tool and giving arguments that fit that tool's parameters."""
    schema: dict[str, Any] = {
        "type": "array",
        "minItems": 1,  # "[]" parses as no call: an answer that calls nothing should not open the tag
        **({} if parallel else {"maxItems": 1}),
        "items": {"anyOf": [{"type": "object", "properties": {"name": {"const": t.name}, "arguments": t.parameters},
                             "required": ["name", "arguments"], "additionalProperties": False} for t in tools]},
    }
    # A tool's "#/$defs/X" (pydantic writes them) points at the root of its own parameters; nested
    # here, the definitions must sit at this schema's root.
    for key in ("$defs", "definitions"):
        merged: dict[str, Any] = {}
        for t in tools:
            defs = t.parameters.get(key) if isinstance(t.parameters, dict) else None
            for name, definition in (defs.items() if isinstance(defs, dict) else ()):
                if merged.setdefault(name, definition) != definition:
                    raise ValueError(f"two tools define {key}/{name} differently")
        if merged:
            schema[key] = merged
    return schema


def _found(text: str, run: str) -> list[int]:
    """Where ``run`` begins in ``text``."""
    at, where = text.find(run), []
    while at != -1:
        where.append(at)
        at = text.find(run, at + 1)
    return where


def quote_grammar(texts: list[str], avoid: tuple[str, ...] = (), more: dict[str, tuple[str, ...]] | None = None) -> str | None:
    """EBNF for the inside of a JSON string that quotes ``texts``: a run of one text's whole words
    ("Leeds", "dogs near Leeds", "€45"; not "Leed" or "eeds"), as written or all in lower case
    ("Leeds" or "leeds", never "LeEDS"), escaped as ``json.dumps`` writes it. Every quote in the
    generated training checks is one. One rule per character position and case (``w0_5`` reads on
    as written from the 6th character of the first text, ``l0_5`` in lower case, and either may
    stop there at a word's end); the start is any word start: linear in the texts, where a regex
    of every run would be quadratic. Written here rather than taken from a library: XGrammar takes
    the grammar, and no grammar library builds "any run of this text". With ``avoid`` (runs of
    words, as written or in lower case) a second start follows ``root``: ``unspanned``, the runs
    that do not begin inside one of them; each of ``more`` (a rule name -> runs) adds a start rule of
    that name whose runs begin inside neither ``avoid``'s nor its own. None: nothing to quote."""
    starts, unspanned, rules = [], [], []
    more = more or {}
    others: dict[str, list[str]] = {label: [] for label in more}
    for k, text in enumerate(texts):
        lower = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
        inside = lambda runs: {i for run in runs for chars in (text, lower) for at in _found(chars, run) for i in range(at, at + len(run))}  # noqa: E731
        avoided = inside(avoid)
        also = {label: avoided | inside(runs) for label, runs in more.items()}
        cases = [("w", text)] + ([("l", lower)] if lower != text else [])
        for i in range(len(text)):
            breaks = i == 0 or not (text[i - 1].isalnum() and text[i].isalnum())  # a word starts or ends before text[i]
            for case, chars in cases:
                step = f"{json.dumps(json.dumps(chars[i], ensure_ascii=False)[1:-1], ensure_ascii=False)} {case}{k}_{i + 1}"
                if i:  # the first character is only ever a start
                    rules.append(f"{case}{k}_{i} ::= " + ('"" | ' if breaks else "") + step)
                if breaks:
                    starts.append(step)  # a quote is never empty
                    if avoid and i not in avoided:
                        unspanned.append(step)
                    for label in more:
                        if i not in also[label]:
                            others[label].append(step)
        rules += [f'{case}{k}_{len(text)} ::= ""' for case, _ in cases if text]
    if not starts:
        return None
    extra = "".join(f"{label} ::= {' | '.join(steps)}\n" for label, steps in others.items() if steps)
    return "root ::= " + " | ".join(starts) + "\n" + (f"unspanned ::= {' | '.join(unspanned)}\n" if unspanned else "") + extra + "\n".join(rules)


# Any JSON value as json.dumps writes it (", " and ": " between items): what a check writes after "->".
_JSON_RULES = r"""json ::= jstring | jother
jother ::= jnumber | "true" | "false" | "null" | jarray | jobject
jstring ::= "\"" jchar* "\""
jchar ::= [^"\\\x00-\x1f] | "\\" ( ["\\/bfnrt] | "u" [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F] )
jnumber ::= jint ( "." [0-9]+ )? ( [eE] [+\-]? [0-9]+ )?
jint ::= "-"? ( "0" | [1-9] [0-9]* )
jarray ::= "[" ( json ( ", " json )* )? "]"
jobject ::= "{" ( jstring ": " json ( ", " jstring ": " json )* )? "}"
"""


REFUSALS = ("The request is harmful.", "No listed tool does this.")  # training/reasoning.py's refusal checks


MISSING, GIVEN = '"missing"', '"given"'  # the check's words for a value (EBNF literals)


def _spanned_family(name: str, tool: Tool) -> str | None:
    """The family of a parameter whose value is a run of the request's words (reading.SPANNED), else None."""
    schema = tool.properties.get(name) if isinstance(tool.properties, dict) else None
    family = param_family(name, schema, tool.properties) if isinstance(schema, dict) else None
    return family if family in SPANNED else None


def _span_rule(family: str, spans: dict[str, Any], rules: list[str]) -> str | None:
    """Adds the rule ``v_<family>``: a quote of one of ``spans``, then the value it states (free
    JSON where the words leave it open); its name, or None when there are no spans."""
    lit = lambda text: json.dumps(text, ensure_ascii=False)  # noqa: E731
    quotes = [f'"\\"" {lit(json.dumps(span, ensure_ascii=False)[1:-1])} "\\""' + (f' ( " -> " {lit(json.dumps(stated))} )?' if stated is not None else ' ( " -> " json )?')
              for span, stated in sorted(spans.items())]
    if not quotes:
        return None
    rules.append(f"v_{family} ::= " + " | ".join(quotes))
    return f"v_{family}"


def _worded(name: str, tool: Tool) -> bool:
    """An enum parameter none of whose values holds a digit, or a number parameter, of a tool that
    also takes a date or a time: its quote is never the words of a date or time (``service = "8:30
    am"``, ``supply_days = "2027"``: they are the date's or time's parameter's)."""
    properties = tool.properties if isinstance(tool.properties, dict) else {}
    schema = properties.get(name) if isinstance(properties.get(name), dict) else {}
    enum = schema.get("enum")
    words = isinstance(enum, list) and bool(enum) and all(isinstance(v, str) and not any(c.isdigit() for c in v) for v in enum)
    number = enum is None and schema.get("type") in ("integer", "number")
    return (words or number) and any(_spanned_family(p, tool) for p in properties)


_TIMED = re.compile(r"\d\s*h\b|\b(?:minutes?|mins?|hours?|hrs?)\b", re.IGNORECASE)  # a length of time said with its unit


def stated_params(tools: list[Tool], texts: list[str]) -> set[tuple[str, str]]:
    """The (tool, parameter) pairs whose values ``texts`` surely give: a currency code when the
    request states the one currency its amount is in ("100 dollars", "CHF 40"), a number said right
    after its parameter's name ("zone 8", "gate 12"), a free-text value named by a place's proper
    name ("at the Elm Street pharmacy"), and the dates, times or lengths of time of a tool that takes
    two or more of one kind, all stated ("8:30-9am")."""
    stated, currency = set(), None
    for tool in tools:
        # a tool that takes k >= 2 dates (or times, or lengths of time said with their unit), required
        # or not, where the request states k different ones: no required one is missing ("Oct 5 2027
        # 8:30-9am" gives a meeting room its start and its end; "until 6 pm" is not the start of a
        # shift whose end is optional). Not one for one: "move my 3 pm meeting" does not say to when.
        properties = tool.properties if isinstance(tool.properties, dict) else {}
        family_of = {name: param_family(name, schema, properties) for name, schema in properties.items() if isinstance(schema, dict)}
        families: dict[str, list[str]] = {}
        for name, family in family_of.items():
            if family in (*SPANNED, "minutes"):
                families.setdefault(family, []).append(name)
        for family, names in families.items():
            said = {v for span, v in values_in(texts, family).items() if v is not None and (family != "minutes" or _TIMED.search(span))}
            if len(names) >= 2 and len(said) >= len(names):
                stated |= {(tool.name, name) for name in names if name in tool.required}
        for name, schema in properties.items():
            if not isinstance(schema, dict):
                continue
            if currency_param(name, schema):
                currency = currency_in(texts) if currency is None else currency
                if currency:
                    stated.add((tool.name, name))
            elif schema.get("type") in ("integer", "number") and "enum" not in schema and number_after_name(name, texts):
                stated.add((tool.name, name))
            elif family_of[name] == "text" and name_before_noun(name, texts):
                stated.add((tool.name, name))
    return stated


def check_grammar(tools: list[Tool], quotable: str | None, decision: str, parallel: bool = True, spans: dict[str, dict[str, Any]] | None = None,
                  stated: set[tuple[str, str]] | None = None, numbers: list[str] | None = None, named: set[tuple[str, str]] | None = None) -> str | None:
    """EBNF for the inside of a ``<think>`` check in the form training writes it
    (training/reasoning.py), for the answer ``decision`` that follows it:

    - ``"call"``: per call "Tool: <an offered tool>. Required: <each required parameter of that
      tool, in its order> = <value>. Optional: <some of its other parameters, in schema order,
      each once> = <value> | missing." (an optional value marked missing is left out of the call);
    - ``"ask"``: one "Tool: ... Required: ..." with at least one required value ``missing``;
    - ``"refuse"``: a refusal's sentence.

    A value is a quote of the request (``quotable``: :func:`quote_grammar`'s rules; None: any JSON
    string), optionally "-> <JSON>", or a JSON value that is not a string. The model still picks
    the tool, the values and which other optional ones it names; it cannot name a parameter the tool
    lacks or skip a required one; without ``parallel`` a call check names one call.

    ``spans`` (family -> :func:`tooltune.reading.values_in` of the request) narrows a date's or a
    time's value to the runs of words that state one, then the value they state ("4 pm" -> "16:00"):
    a check cannot give a time the words "4HJK221" or a date "8:30 am", so a request that states no
    date leaves the date ``missing`` (a question), and the call check cannot give it at all.
    With grounded quotes (and ``quotable`` built with the spans to avoid) an enum parameter of words
    or a number parameter beside a date or time cannot quote words inside a date's or a time's
    (``service = "8:30 am"``, ``supply_days = "2027"``: they are that parameter's); and a parameter the request surely gives (``stated``: :func:`stated_params`)
    is never the value a question asks for ("100 dollars" is not "Which currency?", "zone 8" not "Which zone?").
    With ``numbers`` (:func:`tooltune.reading.numbers_in` the request) a number the check gives
    without quoting words is one the request states ("5,600", "five", "3.4 million"): ``supply_days =
    30`` after a request that says no 30 is one the model made up.
    With ``named`` (:func:`tooltune.reading.named_optional` of the request), a call check names each
    optional parameter the request talks about, with its value or ``missing``: the model still
    decides the value, but cannot skip one the request mentions ("text me when it's ready").
    With grounded quotes built with a start rule ``own<i>`` for tool i (:func:`tooltune.reading.own_words`),
    a required enum of words of that tool never quotes a run that begins with a word that only names
    the tool (``service = "serviced"`` for ``schedule_car_service``): the value is missing.
    None: no check of that kind fits these tools (ask, when no tool has a required parameter)."""
    lit = lambda text: json.dumps(text, ensure_ascii=False)  # noqa: E731 - an EBNF string literal
    if decision == "refuse":
        return "root ::= " + " | ".join(map(lit, REFUSALS))
    rules = [
        'root ::= call ( " " call )*' if decision == "call" and parallel else "root ::= call",
        'value ::= quoted ( " -> " json )? | plain',
        "plain ::= " + (" | ".join([*map(lit, numbers or ()), '"true"', '"false"', '"null"', "jarray", "jobject"]) if numbers is not None else "jother"),
        r'quoted ::= "\"" quote "\""' if quotable else "quoted ::= jstring",
        # an integer parameter's quote reads as a whole number: "3" then "." ends the value, never "3.4"
        'ivalue ::= quoted ( " -> " jint )? | plain',
    ]
    unspanned = quotable is not None and "\nunspanned ::=" in quotable
    if unspanned:
        rules.append(r'worded ::= "\"" unspanned "\"" ( " -> " json )? | plain')
        rules.append(r'iworded ::= "\"" unspanned "\"" ( " -> " jint )? | plain')
    calls = []
    spanned: dict[str, str | None] = {}  # family -> the rule of its spans (None: the request states none)
    for i, tool in enumerate(tools):
        required = list(tool.required)
        optional = [p for p in tool.properties if p not in required]
        head = lit("Tool: " + tool.name + ". Required: ")
        value = {}  # parameter -> the rule of its value (None: the request states none)
        for name in tool.properties:
            family = _spanned_family(name, tool) if spans is not None and quotable else None
            if family is not None and family not in spanned:
                spanned[family] = _span_rule(family, spans.get(family, {}), rules)
            if family is not None:
                value[name] = spanned[family]
            elif spans is not None and quotable and _worded(name, tool):
                value[name] = "worded" if unspanned else "value"  # no date or time to keep it from
            else:
                value[name] = "value"
            if value[name] in ("value", "worded") and isinstance(tool.properties[name], dict) and tool.properties[name].get("type") == "integer":
                value[name] = "i" + value[name]
            if name in required and quotable and f"\nown{i} ::=" in quotable and value[name] in ("value", "worded") and _words_enum(tool.properties[name].get("enum")):
                value[name] = f"own{i}v"  # not the tool's own words: where the request says no value, it is missing
        if f"own{i}v" in value.values():  # one rule per tool, however many of its choices use it
            rules.append(f'own{i}v ::= "\\"" own{i} "\\"" ( " -> " json )? | plain')
        for name in required:
            value.setdefault(name, "value")  # a client's tool may require a name its properties lack
        # a parameter the request surely gives, so no question asks for it
        given_now = {p for p in required if (tool.name, p) in (stated or ())}
        words = lambda name, *alternatives: " | ".join(filter(None, (value[name], *alternatives)))  # noqa: E731 - a value or a word
        if decision == "ask":
            if not required:
                continue
            # r{i}_{k}: parameters k.. with at least one missing; a{i}_{k}: parameters k.. any way
            last = max((k for k, p in enumerate(required) if p not in given_now), default=None)
            if last is None:
                continue  # every value it needs is given: nothing to ask
            for k, name in enumerate(required):
                more = k + 1 < len(required)
                can_miss = name not in given_now
                rules.append(f"a{i}_{k} ::= {lit(name + ' = ')} ( {words(name, MISSING if can_miss else None, GIVEN)} )" + (f' ", " a{i}_{k + 1}' if more else ""))
                if k <= last:  # the one missing value is here or later (never after the last that can be)
                    alternatives = ([f"{lit(name + ' = ')} {MISSING}" + (f' ", " a{i}_{k + 1}' if more else "")] if can_miss else []) \
                        + ([f"{lit(name + ' = ')} ( {words(name, GIVEN)} ) \", \" r{i}_{k + 1}"] if k < last else [])
                    rules.append(f"r{i}_{k} ::= " + " | ".join(alternatives))
            rules.append(f'tool{i} ::= {head} r{i}_0 "."')
        else:
            if any(value[p] is None for p in required):
                continue  # it needs a date or time the request does not state: it cannot be called
            # "given" stands in for a value the row does not record; a date or time is always one of the request's
            given = ' ", " '.join(f'{lit(p + " = ")} ( {words(p, GIVEN if value[p] in ("value", "ivalue") else None)} )' for p in required) or '"none"'
            # the optional parameters the request talks about: named by the check, each with its value or missing
            must = [(tool.name, p) in (named or ()) for p in optional]
            rules.append(f'tool{i} ::= {head} {given} "."' + (f' ( " Optional: " t{i}o0 "." )' + ("" if any(must) else "?") if optional else ""))
            # t{i}o{k}: optional parameter k or a later one first, then maybe more after it (schema order, each once)
            for k in range(len(optional)):
                more = k + 1 < len(optional)
                later = f' ( ", " t{i}o{k + 1} )' + ("" if any(must[k + 1:]) else "?") if more else ""
                rest = f" | t{i}o{k + 1}" if more and not must[k] else ""
                rules.append(f"t{i}o{k} ::= {lit(optional[k] + ' = ')} ( {words(optional[k], MISSING)} ){later}{rest}")
        calls.append(f"tool{i}")
    if not calls:
        return None
    rules.insert(1, "call ::= " + " | ".join(calls))
    body = "\n".join(rules) + "\n" + _JSON_RULES
    if quotable:
        body += quotable.replace("root ::=", "quote ::=", 1)
    return body


class CallGrammars:
    """Compiles (and caches) the answer grammar of each tool list for one tokenizer."""

    def __init__(self, tokenizer: Any, vocab_size: int, stop_ids: list[int]):
        import xgrammar as xgr

        self.info = xgr.TokenizerInfo.from_huggingface(tokenizer, vocab_size=vocab_size, stop_token_ids=stop_ids)
        self.compiler = xgr.GrammarCompiler(self.info, max_threads=2)  # the compiler caches each grammar it built

    def compile(self, tools: list[Tool] | None, parallel: bool = True, quotes: list[str] | None = None) -> Any:
        """The compiled grammar for an answer over ``tools``: any text, and at most one
        ``<TOOLCALL>`` block whose body is :func:`call_schema`, after which the answer ends.
        Keys in the schema's order (the order the generator writes; XGrammar's any-order mode
        lets a key repeat without end) and at most one whitespace character between JSON tokens
        (``json.dumps`` writes one; a model must not spin on spaces). With ``quotes`` (the texts
        of :func:`quote_sources`), a leading ``<think>`` check keeps the form training writes
        (:func:`check_grammar`) and quotes only runs of their whole words (:func:`quote_grammar`).
        None (decode freely) for no tools or a schema XGrammar cannot compile."""
        if not tools:
            return None
        from xgrammar.structural_tag import (AnyTextFormat, GrammarFormat, JSONSchemaFormat, OrFormat, SequenceFormat, StructuralTag, TagFormat,
                                             TriggeredTagsFormat)

        begin, end = CALL_TAG
        try:
            # the runs that state a date or a time, where tools take one (check_grammar's spans)
            spans = {family: values_in(quotes, family) for family in {_spanned_family(p, t) for t in tools for p in (t.properties if isinstance(t.properties, dict) else ())} - {None}} if quotes else {}
            worded = any(_worded(p, t) for t in tools for p in (t.properties if isinstance(t.properties, dict) else ()))
            asked = [q for q in quotes if not isinstance(q, ToolResult)] if quotes else []
            own = {f"own{i}": runs for i, t in enumerate(tools) if (runs := own_words(t, asked))}
            quotable = quote_grammar(quotes, tuple(sorted({run for found in spans.values() for run in found})) if worded else (), own) if quotes else None
            call = TagFormat(begin=begin, content=JSONSchemaFormat(json_schema=call_schema(tools, parallel), max_whitespace_cnt=1), end=end)
            answer = TriggeredTagsFormat(triggers=[begin], tags=[call], stop_after_first=True, excludes=[THINK_OPEN] if quotable else [])
            if quotable:
                # "<think>" is excluded from the free text above, so an answer that opens the check
                # takes one of these branches: the answer follows its check, as training taught
                # (every required value given: the call; one missing: a question; a refusal's
                # sentence: no call), and the check's quotes are the conversation's words.
                stated, numbers = stated_params(tools, quotes), numbers_in(quotes)
                named = {(t.name, p) for t in tools for p in named_optional(t, asked)}

                def check(decision: str) -> Any:
                    grammar = check_grammar(tools, quotable, decision, parallel, spans, stated, numbers, named)
                    return grammar and TagFormat(begin=THINK_OPEN, content=GrammarFormat(grammar=grammar), end=THINK_CLOSE)

                words = AnyTextFormat(excludes=[begin])
                # no call branch where every tool needs a date or time the request does not state
                branches = [SequenceFormat(elements=[c, call]) for c in [check("call")] if c]
                branches += [SequenceFormat(elements=[c, words]) for c in (check("ask"), check("refuse")) if c]
                answer = OrFormat(elements=[*branches, answer])
            return self.compiler.compile_structural_tag(StructuralTag(format=answer))
        except Exception as error:  # noqa: BLE001 - a user's schema may use what XGrammar does not support
            names = ", ".join(t.name for t in tools)
            reason = str(error).strip().splitlines()[-1].split(": ", 1)[-1][:200]  # XGrammar prefixes a time and a C++ file
            warnings.warn(f"decoding without a call grammar for tools [{names}]: {reason}", stacklevel=2)
            return None


_GRAMMARS: dict[tuple[Any, ...], CallGrammars] = {}


def require() -> None:
    """Raise a ValueError that says how to install XGrammar when it is missing."""
    try:
        import xgrammar  # noqa: F401
    except ImportError as error:
        raise ValueError("constrained tool calls need XGrammar: pip install --no-deps xgrammar==0.2.9 apache-tvm-ffi "
                         "(scripts/install.sh does), or turn them off with --free-calls") from error


def grammars_for(model: Any, tokenizer: Any, stop_ids: list[int]) -> CallGrammars:
    """The :class:`CallGrammars` of this model's tokenizer, built once per process (a server
    answers many requests with one)."""
    require()
    vocab = int(getattr(model.config, "vocab_size", None) or len(tokenizer))
    key = (getattr(tokenizer, "name_or_path", ""), len(tokenizer), vocab, tuple(stop_ids))
    if key not in _GRAMMARS:
        _GRAMMARS[key] = CallGrammars(tokenizer, vocab, stop_ids)
    return _GRAMMARS[key]


class CallMatcher:
    """One answer's place in its grammar: masks the logits of its next token, then takes the token
    chosen. ``prefix`` is text already put in the answer's mouth (serving's forced ``tool_choice``):
    the grammar starts after it. A token the grammar does not allow (a pad after a stop string, a
    prefix it rejects) releases the answer: it decodes freely from there."""

    def __init__(self, grammar: Any, vocab_size: int, prefix: str = ""):
        import xgrammar as xgr

        self.matcher = xgr.GrammarMatcher(grammar)
        self.bitmask = xgr.allocate_token_bitmask(1, vocab_size)
        self.vocab_size = vocab_size
        self.apply = xgr.apply_token_bitmask_inplace  # bound once: mask() runs for every row at every token
        self.active = not prefix or self.matcher.accept_string(prefix)

    def mask(self, logits: Any) -> None:
        """Set the logits of tokens the grammar does not allow next to -inf, in place (one row of float32)."""
        if self.active and not self.matcher.is_terminated():
            self.matcher.fill_next_token_bitmask(self.bitmask, 0)
            self.apply(logits.view(1, -1), self.bitmask, vocab_size=min(self.vocab_size, logits.shape[-1]))

    def accept(self, token: int) -> None:
        if self.active and not self.matcher.is_terminated() and not self.matcher.accept_token(token):
            self.active = False


class CallConstraint:
    """A transformers logits processor that keeps each row of a batched generate() inside its own
    grammar (None: that row decodes freely); ``prefixes`` as in :class:`CallMatcher`."""

    def __init__(self, grammars: list[Any], prompt_width: int, vocab_size: int, prefixes: list[str] | None = None):
        starts = prefixes or [""] * len(grammars)
        self.width = prompt_width
        self.rows = [CallMatcher(g, vocab_size, p) if g is not None else None for g, p in zip(grammars, starts)]

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if input_ids.shape[1] > self.width:  # the previous step chose a token for every row
            for row, token in zip(self.rows, input_ids[:, -1].tolist()):
                if row is not None:
                    row.accept(token)
        masked = scores.float()  # the mask is applied to float32 logits (a copy only when they are not)
        for index, row in enumerate(self.rows):
            if row is not None:
                row.mask(masked[index])
        if masked is not scores:
            scores.copy_(masked)
        return scores

"""The teacher path against a local fake OpenAI-compatible endpoint (loopback only)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tooltune.data import make_record
from tooltune.data.teacher import rewrite_with_teacher


class _FakeTeacher(BaseHTTPRequestHandler):
    rewrites: dict[str, str] = {}
    seen: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _FakeTeacher.seen.append(body)
        request = body["messages"][-1]["content"]
        if request == "explode":
            self.send_response(500)
            self.end_headers()
            return
        reply = {
            "id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": _FakeTeacher.rewrites.get(request, request)}}],
        }
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def teacher_url():
    server = HTTPServer(("127.0.0.1", 0), _FakeTeacher)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()


def test_teacher_rewrites_and_guards_values(teacher_url):
    call = json.dumps([{"name": "currency_convert", "arguments": {"amount": 50, "from": "EUR", "to": "USD"}}])
    rows = [
        make_record("sys", "Convert 50 EUR to USD", call, "execute"),
        make_record("sys", "convert 50 EUR into USD pls", call, "execute"),
        make_record("sys", "Convert some money", "How much, and which currencies?", "clarify"),
        make_record("sys", "explode", "I'm sorry, but I can't help with that.", "refuse"),
    ]
    _FakeTeacher.rewrites = {
        "Convert 50 EUR to USD": "Could you tell me what 50 EUR is in USD?",  # keeps every value
        "convert 50 EUR into USD pls": "How much is 60 EUR in dollars?",  # changed a value: rejected
        "Convert some money": "I'd like to convert 20 dollars",  # invented a value: rejected
    }
    summary = rewrite_with_teacher(rows, teacher_url, "fake-teacher")
    assert (summary.rewritten, summary.kept_original, summary.failed_calls) == (1, 2, 1)
    assert rows[0].user_prompt == "Could you tell me what 50 EUR is in USD?"
    assert rows[0].raw["extra_info"]["teacher"] == {"model": "fake-teacher", "original": "Convert 50 EUR to USD"}
    assert rows[1].user_prompt == "convert 50 EUR into USD pls"
    assert rows[2].user_prompt == "Convert some money"
    assert _FakeTeacher.seen[0]["model"] == "fake-teacher"


def test_a_value_said_in_other_words_must_survive_the_rewrite(teacher_url):
    """The verbatim check cannot see "4 pm" for "16:00"; the grounded check, as `data generate --teacher` sets it, can."""
    from tooltune.rewards.grounding import still_grounded
    from tooltune.schema import Tool, render_system_prompt

    tool = Tool("book_table", "Book a table.", {"type": "object", "properties": {
        "restaurant": {"type": "string"}, "time": {"type": "string", "description": "Time, HH:MM"}}, "required": ["restaurant", "time"]})
    call = json.dumps([{"name": "book_table", "arguments": {"restaurant": "Luigi's", "time": "16:00"}}])
    rows = [make_record(render_system_prompt([tool]), "Book Luigi's at 4 pm", call, "execute"),
            make_record(render_system_prompt([tool]), "table at Luigi's, 4 pm please", call, "execute")]
    _FakeTeacher.rewrites = {"Book Luigi's at 4 pm": "Could you get me a table at Luigi's around 5 pm?",  # the time changed
                             "table at Luigi's, 4 pm please": "Please reserve Luigi's for four in the afternoon."}  # the same time in words
    unguarded = [make_record(r.system_prompt, r.user_prompt, r.ground_truth, "execute") for r in rows]
    assert rewrite_with_teacher(unguarded, teacher_url, "t").rewritten == 2  # the verbatim check alone takes both
    summary = rewrite_with_teacher(rows, teacher_url, "t", keeps=still_grounded)
    assert (summary.rewritten, summary.kept_original) == (1, 1)
    assert rows[0].user_prompt == "Book Luigi's at 4 pm" and rows[1].user_prompt == "Please reserve Luigi's for four in the afternoon."

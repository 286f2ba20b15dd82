import pytest

from tooltune.schema import classify_response, infer_behavior


@pytest.mark.parametrize(
    "text, decision",
    [
        ('<TOOLCALL>[{"name": "f", "arguments": {}}]</TOOLCALL>', "call"),
        ("<TOOLCALL>[{broken", "call"),
        ("Which city would you like the forecast for?", "ask"),
        ("Please provide the departure date.", "ask"),
        ("I'm sorry, but I can't help with creating malware.", "refuse"),
        ("I cannot assist with that request.", "refuse"),
        ("Sorry, none of my available tools can order a pizza.", "refuse"),
        ("The weather in Paris is sunny.", "answer"),
    ],
)
def test_classify_response(text, decision):
    assert classify_response(text) == decision


def test_infer_behavior_from_ground_truth():
    assert infer_behavior('[{"name": "f", "arguments": {}}]') == "execute"
    assert infer_behavior("Which location would you like?") == "clarify"
    assert infer_behavior("I'm sorry, but I can't help with that.") == "refuse"

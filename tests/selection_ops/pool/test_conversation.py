"""The one conversation model: shape rules (named record and turn), renderings per use, content ids."""

import pytest

from selection_ops.pool import (
    ConversationError,
    PoolSource,
    PoolSpec,
    RecordError,
    check_conversation,
    load_pool,
    messages_for_training,
    text_for_embedding,
    text_for_metrics,
    turn_pairs,
)

S = {"role": "system", "content": "Be brief."}
U1, A1 = {"role": "user", "content": "q1"}, {"role": "assistant", "content": "a1"}
U2, A2 = {"role": "user", "content": "q2"}, {"role": "assistant", "content": "a2"}


@pytest.mark.parametrize("conversation", [[U1, A1], [S, U1, A1, U2, A2], [U1], [S, U1, A1, U2]])
def test_valid_shapes_pass(conversation):
    assert check_conversation(conversation, "rec") is conversation


@pytest.mark.parametrize(("conversation", "message"), [
    ([A1, U1], "rec: field 'conversation[0].role' is an assistant turn at turn 0; the first turn (after any system "
               "turn) must be the user's"),
    ([S, A1], "rec: field 'conversation[1].role' is an assistant turn at turn 1"),
    ([U1, U2, A1], "rec: field 'conversation[1].role' is a second user turn in a row at turn 1"),
    ([U1, A1, A2], "rec: field 'conversation[2].role' is a second assistant turn in a row at turn 2"),
    ([U1, S, A1], "rec: field 'conversation[1].role' is a system turn at turn 1; only a leading system turn"),
    ([S], "rec: field 'conversation' has only a system turn"),
    ([U1, {"role": "assistant", "content": "\n "}],
     "rec: field 'conversation[1].content' is empty (assistant turn 1)"),
    ([{"role": "user", "content": ""}, A1], "rec: field 'conversation[0].content' is empty (user turn 0)"),
    ([], "rec: field 'conversation' is empty"),
])
def test_bad_shapes_name_record_turn_and_rule(conversation, message):
    with pytest.raises(ConversationError) as info:
        check_conversation(conversation, "rec")
    assert str(info.value).startswith(message)
    assert isinstance(info.value, RecordError)  # every caller that handles RecordError handles these


def test_training_data_must_end_with_the_assistant():
    assert messages_for_training([S, U1, A1], "rec") == [S, U1, A1]
    with pytest.raises(ConversationError, match="ends with a user turn"):
        messages_for_training([U1, A1, U2], "rec")
    extra = [{**U1, "name": "x"}, A1]
    assert messages_for_training(extra, "rec") == [U1, A1]  # only role and content reach LLaMA-Factory


def test_renderings_one_per_use():
    conversation = [S, U1, A1, U2, A2]
    assert text_for_metrics(conversation) == ("System: Be brief.\n\nUser: q1\n\nAssistant: a1\n\nUser: q2\n\n"
                                              "Assistant: a2")
    assert turn_pairs(conversation) == (("Be brief.\nq1", "a1"), ("q2", "a2"))
    assert text_for_embedding(conversation) == "Be brief.\nq1\n\na1\n\nq2\n\na2"
    assert turn_pairs([U1, A1, U2]) == (("q1", "a1"), ("q2", ""))


@pytest.mark.parametrize(("records", "message"), [
    ([{"messages": [A1, U1]}], "p.jsonl: line 1: field 'messages[0].role' is an assistant turn"),
    ([{"conversations": [{"from": "human", "value": "q"}, {"from": "human", "value": "q"}]}],
     "p.jsonl: line 1: field 'conversations[1].from' is a second user turn in a row"),
    ([{"instruction": "q", "output": " "}], "p.jsonl: line 1: field 'output' is empty (assistant turn 1)"),
    ([{"system": "s", "conversations": [{"from": "gpt", "value": "a"}]}],
     "p.jsonl: line 1: field 'conversations[0].from' is an assistant turn at turn 1"),
])
def test_pool_loading_names_the_field_in_the_records_own_format(tmp_path, records, message):
    import json

    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    with pytest.raises(RecordError) as info:
        load_pool(PoolSpec((PoolSource(path=str(path)),)))
    assert str(info.value).startswith(message)

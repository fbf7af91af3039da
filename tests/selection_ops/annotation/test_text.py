import pytest

from selection_ops.annotation.text import RecordError, sample_from_record


def test_turn_pairs_and_system_folding():
    conversation = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "q1"},
                    {"role": "assistant", "content": "a1"}, {"role": "user", "content": "q2"},
                    {"role": "assistant", "content": "a2"}]
    sample = sample_from_record("r1", conversation, "src")
    assert sample.turns == (("Be brief.\nq1", "a1"), ("q2", "a2"))
    assert sample.instruction == "Be brief.\nq1" and sample.response == "a1"
    assert sample.text == "Be brief.\nq1\n\na1\n\nq2\n\na2"


def test_content_hash_follows_content():
    a = sample_from_record("r", [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}])
    b = sample_from_record("r", [{"role": "user", "content": "q"}, {"role": "assistant", "content": "b"}])
    assert a.content_hash != b.content_hash
    assert a.content_hash == "593b392264488186"  # the cache key of annotation stores written before the move


@pytest.mark.parametrize("conversation, message", [
    ([], "record 'bad7': field 'conversation' is empty"),
    ([{"role": "robot", "content": "x"}], "record 'bad7': field 'conversation[0].role' has role 'robot'"),
    ([{"role": "assistant", "content": "x"}], "record 'bad7': field 'conversation[0].role' is an assistant turn"),
    ([{"role": "user", "content": None}], "record 'bad7': field 'conversation[0].content' must be a string"),
    ([{"role": "user", "content": "q"}, {"role": "user", "content": "q"}],
     "record 'bad7': field 'conversation[1].role' is a second user turn in a row"),
    ([{"role": "user", "content": "q"}, {"role": "assistant", "content": "  "}],
     "record 'bad7': field 'conversation[1].content' is empty"),
])
def test_errors_name_record_and_field(conversation, message):
    with pytest.raises(RecordError, match=message.replace("[", r"\[").replace("]", r"\]")):
        sample_from_record("bad7", conversation)

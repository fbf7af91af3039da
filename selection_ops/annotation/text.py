"""Views of one pool sample as the annotators read it: instruction, response, turn pairs, full text.

The conversation model (roles, shape rules, renderings, the content hash) lives in
``selection_ops.pool.conversation``; a ``Sample`` holds its ``turn_pairs`` and reads the rest from there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from selection_ops.pool.conversation import check_conversation, embedding_text_of_pairs, turn_pairs, turns_hash
from selection_ops.pool.errors import RecordError

__all__ = ["RecordError", "Sample", "sample_from_record"]


@dataclass(frozen=True)
class Sample:
    """One pool record. ``turns`` are the (instruction, response) pairs of the conversation, in order."""

    id: str
    turns: tuple[tuple[str, str], ...]
    source: str = ""

    @property
    def instruction(self) -> str:
        """The first user query (with any system prompt), the part taggers and complexity scorers read."""
        return self.turns[0][0]

    @property
    def response(self) -> str:
        """The first assistant reply."""
        return self.turns[0][1]

    @property
    def text(self) -> str:
        """``text_for_embedding`` of the conversation: contents without role names, for embeddings."""
        return embedding_text_of_pairs(self.turns)

    @property
    def content_hash(self) -> str:
        """``turns_hash``: a cached annotation is reused only when the sample's content is unchanged."""
        return turns_hash(self.turns)


def sample_from_record(record_id: str, conversation: Sequence[Mapping[str, str]], source: str = "") -> Sample:
    """Build a ``Sample`` from a conversation of valid shape (``check_conversation``); each user turn pairs with
    the assistant turn that follows it (``""`` when the conversation ends on the user).

    Raises ``RecordError`` naming the record and the turn when a role or content is missing, unknown or empty,
    or the turns do not alternate.
    """
    check_conversation(conversation, f"record {record_id!r}")
    return Sample(id=str(record_id), turns=turn_pairs(conversation), source=str(source))

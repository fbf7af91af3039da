"""Views of one pool sample as the annotators read it: instruction, response, turn pairs, full text.

A conversation is a list of ``{"role", "content"}`` turns with roles ``system``/``user``/``assistant``
(the canonical pool format). A system turn is prepended to the first user turn, as the official DEITA and
InsTag code fold Alpaca's ``input`` and any system prompt into the query.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

VALID_ROLES = ("system", "user", "assistant")


class RecordError(ValueError):
    """A pool record is malformed; the message names the record id and the field."""


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
        """The whole conversation as one string (queries and replies separated by blank lines), for embeddings."""
        return "\n\n".join(part for pair in self.turns for part in pair if part)

    @property
    def content_hash(self) -> str:
        """sha1 of the turns: a cached annotation is reused only when the sample's content is unchanged."""
        return hashlib.sha1(json.dumps(self.turns, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]


def sample_from_record(record_id: str, conversation: Sequence[Mapping[str, str]], source: str = "") -> Sample:
    """Build a ``Sample``; each user turn pairs with the assistant turn that follows it (``""`` when none).

    Raises ``RecordError`` naming the record and the turn when a role or content is missing or unknown.
    """
    if conversation is None or len(conversation) == 0:
        raise RecordError(f"record {record_id!r}: field 'conversation' is empty")
    system_parts: list[str] = []
    turns: list[tuple[str, str]] = []
    pending_user: str | None = None
    for position, turn in enumerate(conversation):
        role, content = turn.get("role"), turn.get("content")
        if role not in VALID_ROLES:
            raise RecordError(f"record {record_id!r}: conversation[{position}].role is {role!r}, "
                              f"expected {VALID_ROLES}")
        if not isinstance(content, str):
            raise RecordError(f"record {record_id!r}: conversation[{position}].content is not a string")
        if role == "system":
            system_parts.append(content)
        elif role == "user":
            if pending_user is not None:
                turns.append((pending_user, ""))
            pending_user = content
        else:
            if pending_user is None:
                raise RecordError(f"record {record_id!r}: conversation[{position}] is an assistant turn with no "
                                  "user turn before it")
            turns.append((pending_user, content))
            pending_user = None
    if pending_user is not None:
        turns.append((pending_user, ""))
    if not turns:
        raise RecordError(f"record {record_id!r}: field 'conversation' has no user turn")
    if system_parts:
        first_query, first_reply = turns[0]
        turns[0] = ("\n".join(system_parts + [first_query]), first_reply)
    return Sample(id=str(record_id), turns=tuple(turns), source=str(source))

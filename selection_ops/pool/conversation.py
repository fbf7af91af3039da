"""The canonical conversation, owned here for every stage: roles, shape rules, renderings, content ids.

A conversation is a list of ``{"role", "content"}`` turns, roles in {system, user, assistant}. Its shape
(``check_conversation``): an optional leading system turn, then user and assistant turns strictly alternating,
starting with the user; no turn empty (whitespace only counts as empty). Training data (``messages_for_training``)
must also end with an assistant turn, since that is the response a model learns; LLaMA-Factory's ShareGPT converter
would otherwise skip the record with only a log line ("Invalid role tag" / "Invalid message count").

Renderings, one per use, each a pure function of the conversation:

- ``text_for_metrics``: ``"User: ...\\n\\nAssistant: ..."``, for text metrics (TTR, vocd-D), ZIP and the CLI's texts;
- ``text_for_embedding``: the turns' contents without role names, the system prompt folded into the first query,
  for sentence embeddings and annotators (the official DEITA and InsTag code embed the query and response text);
- ``turn_pairs``: ``(query, response)`` per exchange, for per-turn scorers (DEITA, IFD) and taggers;
- ``messages_for_training``: the checked ``{"role", "content"}`` list LLaMA-Factory reads.

Ids: ``content_id`` (a record's id when it has none of its own), ``text_content_id`` (the same for a record that
has a text instead of a conversation, e.g. the CLI's ``--text-field``) and ``turns_hash`` (the annotation cache key).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from selection_ops.pool.errors import RecordError, json_type_name

Conversation = list[dict[str, str]]
ROLES: tuple[str, ...] = ("system", "user", "assistant")
_ROLE_TITLES = {"system": "System", "user": "User", "assistant": "Assistant"}


class ConversationError(RecordError):
    """A conversation whose shape breaks a rule; the message names the record, the turn and the rule."""


def check_conversation(conversation: Any, where: str, *, for_training: bool = False, field: str = "conversation",
                       turn_fields: Sequence[str] | None = None, role_key: str | None = "role",
                       content_key: str | None = "content") -> Conversation:
    """``conversation`` itself when its shape is valid (see the module doc), else a ConversationError naming
    ``where`` (the record), the turn and what is wrong. ``for_training``: the last turn must be the assistant's.

    Turn ``i`` is named ``turn_fields[i]`` (default ``field[i]``) followed by ``.role_key`` / ``.content_key``
    (left off when None), so a record read from another format is named by its own fields (``conversations[2]
    .value``, ``output``).
    """
    if not isinstance(conversation, Sequence) or isinstance(conversation, str) or len(conversation) == 0:
        if isinstance(conversation, Sequence) and not isinstance(conversation, str):
            raise ConversationError(where, "is empty", field)
        raise ConversationError(where, f"must be a list of turns, got {json_type_name(conversation)}", field)

    def name(position: int, key: str | None) -> str:
        turn = turn_fields[position] if turn_fields is not None else f"{field}[{position}]"
        return f"{turn}.{key}" if key else turn

    for position, turn in enumerate(conversation):
        if not isinstance(turn, Mapping):
            raise ConversationError(where, f"must be a {{role, content}} object, got {json_type_name(turn)}",
                                    name(position, None))
        role, content = turn.get("role"), turn.get("content")
        if role not in ROLES:
            raise ConversationError(where, f"has role {role!r}; expected one of {', '.join(ROLES)}",
                                    name(position, role_key))
        if not isinstance(content, str):
            raise ConversationError(where, f"must be a string, got {json_type_name(content)}",
                                    name(position, content_key))
        if not content.strip():
            raise ConversationError(where, f"is empty ({role} turn {position})", name(position, content_key))
    offset = 1 if conversation[0]["role"] == "system" else 0
    if offset == len(conversation):
        raise ConversationError(where, "has only a system turn; a conversation needs a user turn", field)
    for position in range(offset, len(conversation)):
        expected = "user" if (position - offset) % 2 == 0 else "assistant"
        role = conversation[position]["role"]
        if role != expected:
            if role == "system":
                problem = f"is a system turn at turn {position}; only a leading system turn is allowed"
            elif position == offset:
                problem = f"is an {role} turn at turn {position}; the first turn (after any system turn) must be " \
                          "the user's"
            else:
                problem = f"is a second {role} turn in a row at turn {position}; user and assistant turns must " \
                          "alternate"
            raise ConversationError(where, problem, name(position, role_key))
    if for_training and conversation[-1]["role"] != "assistant":
        raise ConversationError(where, f"ends with a user turn (turn {len(conversation) - 1}); training data must "
                                       "end with the assistant's response", field)
    return conversation


def canonical_json(conversation: Sequence[Mapping[str, str]]) -> str:
    """The conversation as compact JSON with only ``role`` and ``content`` per turn, keys sorted, UTF-8 kept.

    Example: ``[{"content":"Hi","role":"user"},{"content":"Hello!","role":"assistant"}]``.
    """
    turns = [{"content": turn["content"], "role": turn["role"]} for turn in conversation]
    return json.dumps(turns, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def content_id(conversation: Sequence[Mapping[str, str]]) -> str:
    """Stable id from content: the first 16 hex digits of sha1(canonical_json(conversation).encode("utf-8")).

    Independent of the file format, the file's record order and the source label, so the same conversation
    read from Alpaca JSON, ShareGPT JSONL or Parquet gets the same id, and exact duplicates collide (which is
    how ``load_pool`` finds them). 64 bits make an accidental collision negligible below ~10^9 records.
    """
    return hashlib.sha1(canonical_json(conversation).encode("utf-8")).hexdigest()[:16]


def text_content_id(text: str) -> str:
    """Stable id of a plain text (a record with no conversation): the first 16 hex digits of the sha1 of the text's
    canonical JSON (``json.dumps(text, ensure_ascii=False)``, UTF-8).

    The same rule as ``content_id``, applied to a JSON string instead of a JSON array of turns: a string's JSON
    starts with ``"`` and a conversation's with ``[``, so a text never takes a conversation's id, and the same text
    read from any file format gets the same id (exact duplicates collide, as for conversations).
    """
    return hashlib.sha1(json.dumps(text, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]


def text_for_metrics(conversation: Sequence[Mapping[str, str]]) -> str:
    """The conversation as one string with role names, for text metrics (TTR, vocd-D), ZIP and tagging prompts.

    Each turn becomes ``"<Role>: <content>"`` (Role = System / User / Assistant) and turns are joined by a
    blank line, e.g. ``"User: What is 2+2?\\n\\nAssistant: 4"``. The role prefix keeps who said what in
    multi-turn samples; it is the same for every sample, so it shifts text metrics by a constant only. A
    turn's content is used verbatim (no stripping).
    """
    return "\n\n".join(f"{_ROLE_TITLES.get(turn['role'], turn['role'])}: {turn['content']}" for turn in conversation)


# The name the pool stage first gave ``text_for_metrics``; kept so existing callers read the same text.
conversation_text = text_for_metrics


def turn_pairs(conversation: Sequence[Mapping[str, str]]) -> tuple[tuple[str, str], ...]:
    """``(query, response)`` per exchange, in order: each user turn pairs with the assistant turn after it
    (``""`` when none follows); system turns are joined (newline) in front of the first query, as the official
    DEITA and InsTag code fold Alpaca's ``input`` and any system prompt into the query."""
    system_parts: list[str] = []
    pairs: list[tuple[str, str]] = []
    pending_user: str | None = None
    for turn in conversation:
        role, content = turn["role"], turn["content"]
        if role == "system":
            system_parts.append(content)
        elif role == "user":
            if pending_user is not None:
                pairs.append((pending_user, ""))
            pending_user = content
        elif pending_user is not None:
            pairs.append((pending_user, content))
            pending_user = None
    if pending_user is not None:
        pairs.append((pending_user, ""))
    if system_parts and pairs:
        first_query, first_reply = pairs[0]
        pairs[0] = ("\n".join(system_parts + [first_query]), first_reply)
    return tuple(pairs)


def text_for_embedding(conversation: Sequence[Mapping[str, str]]) -> str:
    """The contents without role names (queries and responses separated by blank lines, the system prompt
    folded into the first query), for sentence embeddings: ``"What is 2+2?\\n\\n4"``."""
    return embedding_text_of_pairs(turn_pairs(conversation))


def embedding_text_of_pairs(pairs: Sequence[tuple[str, str]]) -> str:
    """``text_for_embedding`` from already computed ``turn_pairs`` (empty parts left out)."""
    return "\n\n".join(part for pair in pairs for part in pair if part)


def turns_hash(pairs: Sequence[tuple[str, str]]) -> str:
    """The annotation cache key: sha1 of the ``turn_pairs`` as JSON, first 16 hex digits; a cached annotation is
    reused only when the sample's content is unchanged."""
    return hashlib.sha1(json.dumps([list(pair) for pair in pairs], ensure_ascii=False).encode("utf-8")
                        ).hexdigest()[:16]


def messages_for_training(conversation: Sequence[Mapping[str, Any]], where: str) -> Conversation:
    """The conversation as LLaMA-Factory's OpenAI-style messages (``role`` and ``content`` only), after
    ``check_conversation(..., for_training=True)``: a record LLaMA-Factory would skip or train on an empty response
    is refused here, naming it."""
    check_conversation(conversation, where, for_training=True)
    return [{"role": turn["role"], "content": turn["content"]} for turn in conversation]

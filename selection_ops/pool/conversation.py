"""The canonical conversation: a list of ``{"role", "content"}`` turns, roles in {system, user, assistant}.

Two functions every stage shares live here: the content id (the stable id of a record without its own id) and
the single-string rendering used for embeddings and text metrics.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

Conversation = list[dict[str, str]]
ROLES: tuple[str, ...] = ("system", "user", "assistant")
_ROLE_TITLES = {"system": "System", "user": "User", "assistant": "Assistant"}


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


def conversation_text(conversation: Sequence[Mapping[str, str]]) -> str:
    """The conversation as one string, for sentence embeddings, tagging and text metrics (TTR, ZIP, ...).

    Each turn becomes ``"<Role>: <content>"`` (Role = System / User / Assistant) and turns are joined by a
    blank line, e.g. ``"User: What is 2+2?\\n\\nAssistant: 4"``. The role prefix keeps who said what in
    multi-turn samples; it is the same for every sample, so it shifts text metrics by a constant only. A
    turn's content is used verbatim (no stripping), so the rendering is a pure function of the conversation.
    """
    return "\n\n".join(f"{_ROLE_TITLES.get(turn['role'], turn['role'])}: {turn['content']}" for turn in conversation)

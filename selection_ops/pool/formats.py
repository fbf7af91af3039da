"""Record formats users have, each parsed into the canonical conversation (see ``conversation.py``).

- ``alpaca``: ``instruction``, optional ``input``, ``output``, optional ``system`` and ``history`` (a list of
  ``[instruction, response]`` pairs that precede this turn, LLaMA-Factory's convention). The user turn is
  ``instruction`` and ``input`` joined by a newline, the empty one left out (LLaMA-Factory's ``alpaca`` converter);
  a missing or null ``input`` counts as empty.
- ``sharegpt``: ``conversations`` = list of ``{"from", "value"}``; ``from`` in human/user, gpt/assistant/chatgpt/
  bard/bing/model, system; optional top-level ``system`` string.
- ``messages``: OpenAI / Tulu ``messages`` = list of ``{"role", "content"}``.
- ``mig``: MIG's annotated pool, ``dialogs`` = list of ``{"role", "content"}``.
- ``canonical``: our own store, ``conversation`` = list of ``{"role", "content"}``.
- ``turns``: ``conversations`` = list of strings alternating user / assistant (LIMA on the Hugging Face Hub).

Every conversation must have the shape ``conversation.check_conversation`` checks (an optional leading system
turn, then user and assistant alternating from the user's, no empty turn) and hold at least one user turn and one
assistant turn. Errors name the field by its path inside the record, e.g. ``conversations[3].from`` or
``history[2][1]``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from selection_ops.pool.conversation import Conversation, check_conversation
from selection_ops.pool.errors import RecordError, is_object, json_type_name, require_string

FormatName = Literal["auto", "alpaca", "sharegpt", "messages", "mig", "canonical", "turns"]
FORMATS: tuple[str, ...] = ("alpaca", "sharegpt", "messages", "mig", "canonical", "turns")

# Role spellings seen in the wild, lower-cased, mapped to the canonical three.
ROLE_ALIASES: dict[str, str] = {
    "system": "system",
    "user": "user", "human": "user",
    "assistant": "assistant", "gpt": "assistant", "chatgpt": "assistant", "bard": "assistant", "bing": "assistant",
    "model": "assistant",
}


def _role(value: Any, where: str, field: str) -> str:
    raw = require_string(value, where, field)
    role = ROLE_ALIASES.get(raw.strip().lower())
    if role is None:
        raise RecordError(where, f"has unknown role {raw!r}; known: {', '.join(sorted(ROLE_ALIASES))}", field)
    return role


def _require_list(record: Mapping[str, Any], key: str, where: str) -> list:
    if key not in record:
        raise RecordError(where, "is missing", key)
    value = record[key]
    if not isinstance(value, (list, tuple)):
        raise RecordError(where, f"must be an array, got {json_type_name(value)}", key)
    return list(value)


def _optional_system(record: Mapping[str, Any], where: str) -> Conversation:
    value = record.get("system")
    if value is None or value == "":
        return []
    return [{"role": "system", "content": require_string(value, where, "system")}]


def _check_complete(conversation: Conversation, where: str, key: str, turn_fields: list[str] | None = None,
                    role_key: str | None = "role", content_key: str | None = "content") -> Conversation:
    """The shape rules of ``check_conversation``, then at least one user and one assistant turn."""
    check_conversation(conversation, where, field=key, turn_fields=turn_fields, role_key=role_key,
                       content_key=content_key)
    roles = {turn["role"] for turn in conversation}
    missing = [role for role in ("user", "assistant") if role not in roles]
    if missing:
        raise RecordError(where, f"has no {' and no '.join(missing)} turn", key)
    return conversation


def parse_alpaca(record: Mapping[str, Any], where: str) -> Conversation:
    """Alpaca / LLaMA-Factory ``alpaca`` record -> conversation (history turns first, then this turn)."""
    for key in ("instruction", "output"):
        if key not in record:
            raise RecordError(where, "is missing", key)
    instruction = require_string(record["instruction"], where, "instruction")
    extra_input = record.get("input")
    extra_input = "" if extra_input is None else require_string(extra_input, where, "input")
    output = require_string(record["output"], where, "output")
    prompt = "\n".join(part for part in (instruction, extra_input) if part)
    if not prompt:
        raise RecordError(where, "is empty (and so is 'input')", "instruction")
    conversation = _optional_system(record, where)
    turn_fields = ["system"] * len(conversation)
    history = record.get("history")
    if history is not None:
        if not isinstance(history, (list, tuple)):
            raise RecordError(where, f"must be an array of [instruction, response] pairs, got "
                                     f"{json_type_name(history)}", "history")
        for i, pair in enumerate(history):
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                shape = f"{len(pair)} items" if isinstance(pair, (list, tuple)) else json_type_name(pair)
                raise RecordError(where, f"must be an [instruction, response] pair, got {shape}", f"history[{i}]")
            conversation.append({"role": "user", "content": require_string(pair[0], where, f"history[{i}][0]")})
            conversation.append({"role": "assistant",
                                 "content": require_string(pair[1], where, f"history[{i}][1]")})
            turn_fields += [f"history[{i}][0]", f"history[{i}][1]"]
    conversation.append({"role": "user", "content": prompt})
    conversation.append({"role": "assistant", "content": output})
    return _check_complete(conversation, where, "instruction", turn_fields + ["instruction", "output"], None, None)


def _checked_turn(turn: Any, where: str, field: str, role_key: str, content_key: str) -> dict[str, str]:
    """One turn validated field by field, with the error naming the first bad one."""
    if not is_object(turn):
        raise RecordError(where, f"must be an object with '{role_key}' and '{content_key}', got "
                                 f"{json_type_name(turn)}", field)
    for part in (role_key, content_key):
        if part not in turn:
            raise RecordError(where, "is missing", f"{field}.{part}")
    return {"role": _role(turn[role_key], where, f"{field}.{role_key}"),
            "content": require_string(turn[content_key], where, f"{field}.{content_key}")}


def _parse_turn_list(record: Mapping[str, Any], where: str, key: str, role_key: str, content_key: str,
                     conversation: Conversation) -> Conversation:
    """Append the turns of ``record[key]`` (objects with ``role_key`` / ``content_key``) to ``conversation``."""
    turns = _require_list(record, key, where)
    turn_fields = ["system"] * len(conversation) + [f"{key}[{i}]" for i in range(len(turns))]
    for i, turn in enumerate(turns):
        if type(turn) is dict:  # fast path: a well-formed turn with an exactly spelled role
            raw_role, content = turn.get(role_key), turn.get(content_key)
            role = ROLE_ALIASES.get(raw_role) if type(raw_role) is str else None
            if role is not None and type(content) is str:
                conversation.append({"role": role, "content": content})
                continue
        conversation.append(_checked_turn(turn, where, f"{key}[{i}]", role_key, content_key))
    return _check_complete(conversation, where, key, turn_fields, role_key, content_key)


def parse_sharegpt(record: Mapping[str, Any], where: str) -> Conversation:
    """ShareGPT record (``conversations`` of ``{"from", "value"}``) -> conversation."""
    return _parse_turn_list(record, where, "conversations", "from", "value", _optional_system(record, where))


def _parse_role_content(key: str) -> Callable[[Mapping[str, Any], str], Conversation]:
    def parse(record: Mapping[str, Any], where: str) -> Conversation:
        return _parse_turn_list(record, where, key, "role", "content", [])

    parse.__doc__ = f"Record with ``{key}`` = list of ``{{role, content}}`` -> conversation."
    return parse


parse_messages = _parse_role_content("messages")
parse_mig = _parse_role_content("dialogs")
parse_canonical = _parse_role_content("conversation")


def parse_turns(record: Mapping[str, Any], where: str) -> Conversation:
    """``conversations`` = list of strings alternating user / assistant (LIMA on the Hub) -> conversation."""
    turns = _require_list(record, "conversations", where)
    conversation = [{"role": "user" if i % 2 == 0 else "assistant",
                     "content": require_string(text, where, f"conversations[{i}]")} for i, text in enumerate(turns)]
    return _check_complete(conversation, where, "conversations", [f"conversations[{i}]" for i in range(len(turns))],
                           None, None)


PARSERS: dict[str, Callable[[Mapping[str, Any], str], Conversation]] = {
    "alpaca": parse_alpaca,
    "sharegpt": parse_sharegpt,
    "messages": parse_messages,
    "mig": parse_mig,
    "canonical": parse_canonical,
    "turns": parse_turns,
}


def detect_format(record: Mapping[str, Any], where: str) -> str:
    """The format of one record from its fields (``messages``, ``dialogs``, ``conversation``, ``conversations``,
    ``instruction`` + ``output``, tried in that order); RecordError listing its fields when none matches."""
    if "messages" in record:
        return "messages"
    if "dialogs" in record:
        return "mig"
    if "conversation" in record:
        return "canonical"
    if "conversations" in record:
        turns = record["conversations"]
        return "turns" if isinstance(turns, (list, tuple)) and turns and isinstance(turns[0], str) else "sharegpt"
    if "instruction" in record and "output" in record:
        return "alpaca"
    raise RecordError(where, f"cannot detect the record format from its fields {sorted(record)}; expected "
                             "'messages', 'dialogs', 'conversation', 'conversations' or 'instruction' + 'output' "
                             "(or give the format explicitly)")


def parse_record(record: Any, fmt: str, where: str) -> Conversation:
    """One raw record in format ``fmt`` (one of ``FORMATS``) -> canonical conversation."""
    if not is_object(record):
        raise RecordError(where, f"must be a JSON object, got {json_type_name(record)}")
    if fmt not in PARSERS:
        raise ValueError(f"unknown pool format {fmt!r}; known: auto, {', '.join(FORMATS)}")
    return PARSERS[fmt](record, where)

"""The embedded default pools from the shared data folder: counts as the data README states them."""

from __future__ import annotations

import json
from collections import Counter

from selection_ops.pool import PoolSource, PoolSpec, default_pool_spec, load_pool


def test_default_pool_counts(data_dir):
    frame = load_pool(default_pool_spec(data_dir))
    per_source = frame.groupby("source").size().to_dict()
    # README: LIMA 1029 of 1030 (29 multi-turn via history); 2000-example Alpaca and Dolly subsets.
    stats = frame.attrs["pool_stats"]
    assert {label: s["read"] for label, s in stats.items()} == {"lima": 1029, "alpaca": 2000, "dolly": 2000}
    # Dolly 2k holds one exact duplicate pair (checked by hand on the raw JSON), dropped with a count.
    assert stats["dolly"]["dropped_duplicates"] == 1
    assert per_source == {"lima": 1029, "alpaca": 2000, "dolly": 1999}
    lima = frame[frame["source"] == "lima"]
    assert sum(len(c) > 2 for c in lima["conversation"]) == 29
    assert frame["id"].is_unique
    roles = Counter(turn["role"] for c in frame["conversation"] for turn in c)
    assert set(roles) == {"user", "assistant"} and roles["user"] == roles["assistant"]


def test_lima_history_turns_precede_the_instruction(data_dir):
    path = data_dir / "pools" / "lima_train_sdft.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    index = next(i for i, r in enumerate(raw) if r.get("history"))
    record = raw[index]
    frame = load_pool(PoolSpec((PoolSource(path=str(path)),)))
    conversation = frame["conversation"][index]
    assert len(conversation) == 2 * (len(record["history"]) + 1)
    assert conversation[0] == {"role": "user", "content": record["history"][0][0]}
    assert conversation[1] == {"role": "assistant", "content": record["history"][0][1]}
    assert conversation[-1] == {"role": "assistant", "content": record["output"]}


def test_sharegpt_fixture_from_fastchat(data_dir):
    frame = load_pool(PoolSpec((PoolSource(path=str(data_dir / "sharegpt_format" / "dummy_conversation.json")),)))
    assert len(frame) == 500 and frame["id"][0] == "identity_0"
    assert frame["conversation"][0][0] == {"role": "user", "content": "Who are you?"}

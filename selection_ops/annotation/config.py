"""Typed configuration of the annotation stage; every field has a default and help text.

Defaults run offline on a laptop (MiniLM embeddings, keyphrase tags, hand-crafted quality score). The
model-based annotators of the papers are a config change: ``embedder="causal-lm-mean"``,
``tagger="llm-vllm"`` with ``tagger_model="OFA-Sys/InsTagger"``, ``scorer="deita"`` with the DEITA scorer
checkpoints, ``scorer="ifd"``, or ``scorer="reward"`` with a reward-model checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

EMBEDDERS = ("sentence-transformers", "causal-lm-mean", "causal-lm-last")
TAGGERS = ("keyphrase", "llm-transformers", "llm-vllm", "llm-openai")
# scorer name -> the output column that becomes ``score``
SCORE_COLUMNS: dict[str, str] = {
    "handcrafted": "quality_handcrafted",
    "deita": "deita_score",
    "deita_quality": "deita_quality",
    "deita_complexity": "deita_complexity",
    "ifd": "ifd",
    "superfilter": "superfilter_ratio",
    "reward": "reward",
}


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass(frozen=True)
class AnnotationConfig:
    """Which annotators run and how; see each field's help."""

    embedder: str = field(default="sentence-transformers", metadata=_help(
        "sample embedder: 'sentence-transformers' (default model: offline all-MiniLM-L6-v2), 'causal-lm-mean' "
        "(mean-pooled last hidden state over the first embed_max_tokens tokens, NovelSum A.1) or 'causal-lm-last' "
        "(last token's hidden state, DEITA)"))
    embedder_model: str = field(default="", metadata=_help(
        "model folder, Hub id or .gguf file for the embedder; empty = MiniLM (sentence-transformers) or the "
        "bundled SmolLM2-135M-Instruct GGUF (causal-lm-*)"))
    embed_batch_size: int = field(default=64, metadata=_help("texts per embedding forward pass"))
    embed_max_tokens: int = field(default=256, metadata=_help("tokens kept per text by the causal-LM embedder"))
    tagger: str = field(default="keyphrase", metadata=_help(
        "tagger: 'keyphrase' (offline, KeyBERT-style keyphrases chosen with the MiniLM encoder), or the InsTag "
        "prompt run through 'llm-transformers', 'llm-vllm' (GPU, when vllm is installed) or 'llm-openai' (any "
        "OpenAI-compatible chat-completions endpoint)"))
    tagger_model: str = field(default="", metadata=_help(
        "LLM tagger model (folder, Hub id, .gguf file, or the endpoint's model name); empty = bundled SmolLM2 "
        "(transformers) - runs offline but tags poorly; use OFA-Sys/InsTagger on a GPU"))
    tagger_endpoint: str = field(default="", metadata=_help(
        "base URL of the OpenAI-compatible endpoint for tagger='llm-openai', e.g. http://127.0.0.1:8000/v1"))
    tagger_api_key_env: str = field(default="OPENAI_API_KEY", metadata=_help(
        "environment variable holding the endpoint's API key (may be unset for local servers)"))
    tagger_batch_size: int = field(default=8, metadata=_help("queries per LLM tagger generation batch"))
    tagger_max_new_tokens: int = field(default=256, metadata=_help("generation budget of the LLM tagger"))
    tagger_max_retries: int = field(default=2, metadata=_help(
        "extra attempts (sampled, temperature 0.7) for an LLM tagger reply that does not parse; after that the "
        "sample is recorded as unparseable with empty tags"))
    max_tags: int = field(default=5, metadata=_help("at most this many tags per sample"))
    scorer: str = field(default="handcrafted", metadata=_help(
        f"which score becomes the 'score' column: one of {', '.join(SCORE_COLUMNS)}"))
    extra_scorers: tuple[str, ...] = field(default=(), metadata=_help(
        "further scorers whose columns are added (same names as 'scorer'); hand-crafted indicators always run"))
    scorer_model: str = field(default="", metadata=_help(
        "causal LM for IFD / Superfiltering and the default for DEITA; empty = bundled SmolLM2-135M-Instruct GGUF"))
    deita_quality_model: str = field(default="", metadata=_help(
        "DEITA quality scorer checkpoint (hkust-nlp/deita-quality-scorer on a GPU); empty = scorer_model"))
    deita_complexity_model: str = field(default="", metadata=_help(
        "DEITA complexity scorer checkpoint (hkust-nlp/deita-complexity-scorer); empty = scorer_model"))
    reward_model: str = field(default="", metadata=_help(
        "Hugging Face sequence-classification checkpoint for scorer='reward' (required for it)"))
    score_batch_size: int = field(default=4, metadata=_help("samples per forward pass of model-based scorers"))
    score_max_tokens: int = field(default=1024, metadata=_help("token budget per sequence of model-based scorers"))
    shard_size: int = field(default=256, metadata=_help(
        "samples per stored shard: the unit of resumption (a killed run loses at most one shard per annotator)"))
    normalize_tags: bool = field(default=True, metadata=_help(
        "clean, lemmatise, filter and merge raw tags into labels (InsTag / MIG A.1); False = labels are raw tags"))
    tag_min_frequency: int = field(default=1, metadata=_help(
        "drop cleaned tags carried by fewer samples than this (1 keeps all)"))
    tag_merge_eps: float = field(default=0.05, metadata=_help(
        "DBSCAN cosine-distance radius for merging near-identical tags (0 disables the merge)"))
    valid_tag_vocabulary: str = field(default="", metadata=_help(
        "JSON list of allowed tags (e.g. MIG's valid_tag_path.json); when set, tags are mapped onto it instead "
        "of filtered and merged"))
    vocabulary_max_distance: float = field(default=0.15, metadata=_help(
        "largest cosine distance at which a tag is mapped to its nearest vocabulary tag; farther tags are dropped"))
    knn_k: int = field(default=0, metadata=_help(
        "k for the kNN density column 'knn_density' (NovelSum) computed on the embeddings; 0 = not computed"))
    device: str = field(default="auto", metadata=_help("'auto' (cuda when available), 'cpu', 'cuda', 'cuda:1', ..."))
    dtype: str = field(default="auto", metadata=_help(
        "model dtype: 'auto' (bf16/fp16 on GPU, fp32 on CPU), 'float32', 'float16', 'bfloat16'"))
    show_progress: bool = field(default=True, metadata=_help("tqdm progress bars (rate, ETA) per annotator"))

    def __post_init__(self) -> None:
        if self.embedder not in EMBEDDERS:
            raise ValueError(f"AnnotationConfig.embedder={self.embedder!r}; expected one of {EMBEDDERS}")
        if self.tagger not in TAGGERS:
            raise ValueError(f"AnnotationConfig.tagger={self.tagger!r}; expected one of {TAGGERS}")
        for name in (self.scorer, *self.extra_scorers):
            if name not in SCORE_COLUMNS:
                raise ValueError(f"AnnotationConfig scorer {name!r}; expected one of {tuple(SCORE_COLUMNS)}")
        if self.tagger == "llm-openai" and not self.tagger_endpoint:
            raise ValueError("AnnotationConfig.tagger='llm-openai' needs tagger_endpoint")
        if "reward" in (self.scorer, *self.extra_scorers) and not self.reward_model:
            raise ValueError("AnnotationConfig scorer 'reward' needs reward_model (a sequence-classification checkpoint)")
        for name in ("embed_batch_size", "tagger_batch_size", "score_batch_size", "shard_size", "max_tags"):
            if getattr(self, name) < 1:
                raise ValueError(f"AnnotationConfig.{name} must be >= 1, got {getattr(self, name)}")

    @property
    def score_column(self) -> str:
        return SCORE_COLUMNS[self.scorer]

    @classmethod
    def help(cls) -> dict[str, str]:
        """Field name -> help text (for CLIs and Dagster config descriptions)."""
        return {f.name: f.metadata["help"] for f in fields(cls)}

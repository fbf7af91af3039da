"""How the label graph is built (MIG Eq. 3, Appx. A.2): the one declaration of its settings, read by the grid's
``annotation.label_graph`` section, the Dagster resource (``resources/label_graph.py`` subclasses this class) and
Python alike."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from selection_ops.mig.encoder import (
    MINILM_LABEL_GRAPH_THRESHOLD,
    LabelEncoder,
    default_label_encoder,
    sentence_transformer_encoder,
)


class LabelGraphSettings(BaseModel):
    """Label encoder and edge threshold. Frozen; unknown fields rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    threshold: float = Field(default=MINILM_LABEL_GRAPH_THRESHOLD, description=(
        "keep an edge when label cosine similarity >= threshold; MIG's 0.9 (A.2) is for E5-Mistral, the default "
        "is for the MiniLM encoder"))
    encoder: str = Field(default="", description=(
        "sentence-transformers folder or Hub id of the label encoder (MIG: intfloat/e5-mistral-7b-instruct); empty "
        "= the offline all-MiniLM-L6-v2"))
    valid_labels_path: str | None = Field(default=None, description=(
        "JSON list of valid labels (MIG's 4,531-tag vocabulary); others are dropped first"))

    def label_encoder(self) -> LabelEncoder:
        """The encoder the settings name (loaded now)."""
        return sentence_transformer_encoder(self.encoder) if self.encoder else default_label_encoder()

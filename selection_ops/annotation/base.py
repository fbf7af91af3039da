"""The contract every annotator follows, so the pipeline can cache, resume and swap them by config.

An annotator maps a batch of samples to one dict of output columns per sample. Its ``fingerprint`` lists
everything that changes those outputs (model path, prompt, code version, settings); the shard store keys
its outputs by that fingerprint, so changing one annotator's model or prompt invalidates only its shards.
Models load lazily on the first ``annotate`` call: a fully cached run never loads a model.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from selection_ops.annotation.text import Sample


class Annotator(ABC):
    """Base class: subclasses set ``name`` (a slug, the store folder), ``version`` and implement two methods."""

    name: str = "annotator"
    #: Bump when the code changes outputs for the same settings; part of the fingerprint.
    version: str = "1"

    @abstractmethod
    def settings(self) -> dict[str, Any]:
        """JSON-serialisable settings that determine the outputs (model path, prompt text, pooling, ...)."""

    @abstractmethod
    def annotate(self, samples: Sequence[Sample]) -> list[dict[str, Any]]:
        """One dict of output columns per sample, aligned with ``samples``; same keys for every sample."""

    def fingerprint(self) -> dict[str, Any]:
        """The cache key's content: name, version and settings."""
        return {"annotator": self.name, "version": self.version, **self.settings()}

    def output_columns(self) -> tuple[str, ...]:
        """The columns ``annotate`` writes; used to build empty frames. Override when known up front."""
        return ()

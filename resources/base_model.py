"""The embedded base model for the Dagster layer: conversion lives in ``selection_ops.models.base_model``."""

from selection_ops.models.base_model import MARKER_FILE, convert_gguf_to_hf, default_base_model_gguf, is_converted

__all__ = ["MARKER_FILE", "convert_gguf_to_hf", "default_base_model_gguf", "is_converted"]

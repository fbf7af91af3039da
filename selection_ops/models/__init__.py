"""Model files, plain Python (no Dagster): the bundled GGUF checkpoint, its tokenizer fix, conversion to HF folders."""

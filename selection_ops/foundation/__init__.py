"""The bottom of the import graph: facts every layer shares, owned once.

``paths`` (repository root, data and state folders, MLflow tracking default), ``devices`` (is there a CUDA device,
which device and dtype a model runs on), ``atomic`` (files written to a temporary name and renamed into place),
``secrets`` (redaction of tokens and keys before anything is written or logged). Nothing here imports Dagster,
MLflow or any other package of this repository.
"""

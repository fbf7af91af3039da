"""Evaluation's plain parts, no Dagster: the benchmark table, OpenCompass's data layout built from ``shared/data``,
generated OpenCompass configs, summary and judgement parsing, and MIG Appx. A.4's score arithmetic with its noise.

``resources.opencompass`` runs the CLI on these; ``selection_ops.report`` and ``infosift report`` use ``a4``.
"""

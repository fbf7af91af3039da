"""Plain-Python data selection for instruction tuning: data model, label graph, selectors, metrics.

Nothing in this package imports Dagster; the Dagster wiring lives in ``assets/`` and ``resources/``.
"""

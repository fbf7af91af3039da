"""A metric value that carries how it was computed (e.g. the cluster count a rule chose). Registers nothing."""

from __future__ import annotations

from typing import Any


class MeasuredValue(float):
    """A float, plus ``details``: settings the metric resolved from the data (JSON-able values).

    Being a float, it goes wherever a metric value goes (tables, MLflow, JSON); ``float(value)`` drops the details.
    """

    details: dict[str, Any]

    def __new__(cls, value: float, **details: Any) -> MeasuredValue:
        measured = super().__new__(cls, value)
        measured.details = details
        return measured

    def __reduce__(self):  # pickles (Dagster's IO manager) keep the details
        return (_rebuild, (float(self), self.details))


def _rebuild(value: float, details: dict[str, Any]) -> MeasuredValue:
    return MeasuredValue(value, **details)

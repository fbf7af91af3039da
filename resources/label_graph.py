"""The label graph's settings as a Dagster resource: the fields of ``selection_ops.mig.settings.LabelGraphSettings``
as they are, so the grid's ``annotation.label_graph`` section, the launchpad and Python share one declaration."""

from __future__ import annotations

from dagster import ConfigurableResource

from selection_ops.mig.settings import LabelGraphSettings


class LabelGraphResource(ConfigurableResource, LabelGraphSettings):
    """Label encoder and edge threshold of the study's label graph (run config may still override the threshold)."""

    def plain(self) -> LabelGraphSettings:
        return LabelGraphSettings(**{name: getattr(self, name) for name in LabelGraphSettings.model_fields})

"""The IO manager of the study's Python values (pickles under ``storage/values/``): Dagster's filesystem layout
(``<base_dir>/<asset key path>[/<partition>]``, so values stored by ``FilesystemIOManager`` still load), except that
it leaves an asset's own ``path`` metadata alone.

Dagster's ``FilesystemIOManager`` records where it pickled a value as ``path``, over any ``path`` the asset gave, so a
fine-tuned model's page would point at a pickle of its ``TrainedModel`` rather than at the model folder a user loads
or uploads. Here an asset's own ``path`` wins; the pickle stays an implementation detail.
"""

from __future__ import annotations

import pickle
from typing import Any

from dagster import (
    ConfigurableIOManagerFactory,
    InitResourceContext,
    InputContext,
    MetadataValue,
    OutputContext,
    UPathIOManager,
)
from pydantic import Field


class PickledValues(UPathIOManager):
    """Pickles under a base folder; ``get_metadata`` hands the asset's own ``path`` back so it is the one shown."""

    extension = ""  # as FilesystemIOManager: the partition (or the asset key's last part) is the file name

    def dump_to_path(self, context: OutputContext, obj: Any, path) -> None:
        with path.open("wb") as file:
            pickle.dump(obj, file, pickle.HIGHEST_PROTOCOL)

    def load_from_path(self, context: InputContext, path) -> Any:
        with path.open("rb") as file:
            return pickle.load(file)

    def get_metadata(self, context: OutputContext, obj: Any) -> dict[str, MetadataValue]:
        own = context.output_metadata.get("path")
        if own is None:
            return {}
        return {"path": own if isinstance(own, MetadataValue) else MetadataValue.path(str(own))}


class ValueIOManager(ConfigurableIOManagerFactory):
    """The study's value store: pickles under ``base_dir``; an asset's own ``path`` metadata is the one shown."""

    base_dir: str = Field(description="Folder of the pickles (the study layout's values folder)")

    def create_io_manager(self, context: InitResourceContext) -> PickledValues:
        from upath import UPath

        return PickledValues(base_path=UPath(self.base_dir))

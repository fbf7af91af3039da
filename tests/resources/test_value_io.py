"""The study's value store: an asset's own ``path`` metadata is the one Dagster records (not the pickle's), an asset
without one keeps the pickle's, and values pickled by Dagster's FilesystemIOManager (studies built before) load."""

from __future__ import annotations

from pathlib import Path

from dagster import (
    AssetKey,
    DagsterInstance,
    FilesystemIOManager,
    MetadataValue,
    MultiPartitionKey,
    MultiPartitionsDefinition,
    Output,
    StaticPartitionsDefinition,
    asset,
    materialize,
)

from resources.value_io import ValueIOManager

GRID = MultiPartitionsDefinition({"budget": StaticPartitionsDefinition(["b8"]),
                                  "variant": StaticPartitionsDefinition(["mig", "random"])})
KEY = MultiPartitionKey({"budget": "b8", "variant": "mig"})


def _path(instance: DagsterInstance, key: str) -> str:
    return instance.get_latest_materialization_event(AssetKey(key)).asset_materialization.metadata["path"].path


def test_the_assets_own_path_wins_and_old_pickles_load(tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    values = tmp_path / "values"

    @asset(partitions_def=GRID)
    def trained() -> Output[dict]:
        return Output({"folder": str(model_dir)}, metadata={"path": MetadataValue.path(str(model_dir))})

    @asset(partitions_def=GRID)
    def scores(trained: dict) -> dict:
        return {"read": trained["folder"]}

    instance = DagsterInstance.ephemeral()
    # written by Dagster's own IO manager (a study built before), read back by ours
    assert materialize([trained], partition_key=KEY, instance=instance,
                       resources={"io_manager": FilesystemIOManager(base_dir=str(values))}).success
    assert _path(instance, "trained") != str(model_dir)  # Dagster's own records the pickle over the asset's path
    result = materialize([trained, scores], partition_key=KEY, instance=instance, selection=[scores],
                         resources={"io_manager": ValueIOManager(base_dir=str(values))})
    assert result.success and result.output_for_node("scores") == {"read": str(model_dir)}
    assert Path(_path(instance, "scores")).is_relative_to(values)  # no path of its own: the pickle's

    assert materialize([trained], partition_key=KEY, instance=instance,
                       resources={"io_manager": ValueIOManager(base_dir=str(values))}).success
    assert _path(instance, "trained") == str(model_dir)

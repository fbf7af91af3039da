"""An IO manager that stores DataFrame assets as Parquet files, so the pool and annotations are columnar on disk
and readable by any tool (``pandas.read_parquet``), not pickles."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from dagster import ConfigurableIOManager, InputContext, OutputContext

from selection_ops.foundation.atomic import atomic_path


class ParquetIOManager(ConfigurableIOManager):
    """``<base_dir>/<asset key path>[/<partition>].parquet``, written atomically."""

    base_dir: str

    def _path(self, context: OutputContext | InputContext) -> Path:
        path = Path(self.base_dir, *context.asset_key.path)
        if context.has_asset_partitions:
            path = path / str(context.asset_partition_key)
        return path.with_suffix(".parquet")

    def handle_output(self, context: OutputContext, obj: pd.DataFrame) -> None:
        if not isinstance(obj, pd.DataFrame):
            name = context.asset_key.to_user_string()
            raise TypeError(f"{name}: ParquetIOManager stores DataFrames, got {type(obj)}")
        path = self._path(context)
        with atomic_path(path) as temporary:  # a killed run never leaves half a file behind
            obj.to_parquet(temporary, index=False)
        context.add_output_metadata({"path": str(path), "rows": len(obj)})

    def load_input(self, context: InputContext) -> pd.DataFrame:
        path = self._path(context)
        if not path.exists():
            raise FileNotFoundError(f"{context.asset_key.to_user_string()} has not been materialized ({path} missing)")
        return pd.read_parquet(path)

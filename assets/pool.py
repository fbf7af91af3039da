"""The pool stage: the embedded default (or a configured list of sources) as one canonical Parquet table."""

import pandas as pd
from dagster import AssetCheckResult, AssetExecutionContext, Config, Output, asset, asset_check
from pydantic import Field

from assets.constants import GROUP_POOL, PARQUET_IO_MANAGER
from assets.versioning import frame_digest, version
from selection_ops.foundation.paths import data_dir
from selection_ops.study.grid import GridSpec, digest, pool_source

POOL_CODE_VERSION = "2"


class PoolConfig(Config):
    limit_per_source: int | None = Field(None, description="Seeded subsample per source; None keeps the grid's")
    data_dir: str | None = Field(None, description="Folder holding pools/ (default: $INFOSIFT_DATA_DIR)")


def build_pool_assets(grid: GridSpec) -> list:
    default_limit = grid.pool_limit_per_source
    # The pool's settings are part of its code version: in a study's own instance, a changed limit or seed marks
    # the pool (and, once its content changes, everything downstream) stale.
    sources = {"sources": list(grid.pool_sources)} if grid.pool_sources else {}  # absent: the default's version
    settings = digest({"limit_per_source": default_limit, "seed": grid.seed, **sources}, 8)

    @asset(group_name=GROUP_POOL, io_manager_key=PARQUET_IO_MANAGER, code_version=f"{POOL_CODE_VERSION}-{settings}")
    def pool(context: AssetExecutionContext, config: PoolConfig) -> Output[pd.DataFrame]:
        """The instruction pool: columns ``id`` (stable), ``conversation`` (list of {role, content}), ``source``."""
        from selection_ops.pool import default_pool_spec, load_pool
        from selection_ops.pool.spec import PoolSpec

        limit = config.limit_per_source if config.limit_per_source is not None else default_limit
        if grid.pool_sources:  # the grid's own sources (pool.sources), each capped by limit_per_source if set
            spec = PoolSpec(sources=tuple(pool_source({**s, "limit": s.get("limit") or limit}, grid.seed)
                                          for s in grid.pool_sources))
        else:
            spec = default_pool_spec(data_dir=data_dir() if config.data_dir is None else config.data_dir,
                                     limit_per_source=limit, seed=grid.seed)
        frame = load_pool(spec)
        counts = frame["source"].value_counts().to_dict()
        context.log.info(f"pool: {len(frame)} samples from {counts}")
        turns = frame["conversation"].map(len)
        return Output(frame, data_version=version(frame_digest(frame[["id", "source"]])),
                      metadata={"samples": len(frame), "per_source": counts,
                                "mean_turns": float(turns.mean()) if len(frame) else 0.0})

    @asset_check(asset=pool, description="ids are unique and every conversation has a user and an assistant turn")
    def pool_is_well_formed(pool: pd.DataFrame) -> AssetCheckResult:
        duplicate_ids = int(pool["id"].duplicated().sum())
        roles = [{turn["role"] for turn in conv} for conv in pool["conversation"]]
        incomplete = sum(not {"user", "assistant"} <= present for present in roles)
        return AssetCheckResult(passed=duplicate_ids == 0 and incomplete == 0,
                                metadata={"duplicate_ids": duplicate_ids, "incomplete_conversations": incomplete})

    return [pool, pool_is_well_formed]

"""Where state and data live: owned by ``selection_ops.foundation.paths``; re-exported for the Dagster layer."""

from selection_ops.foundation.paths import REPO_ROOT, data_dir, default_tracking_uri, state_dir

__all__ = ["REPO_ROOT", "data_dir", "default_tracking_uri", "state_dir"]

"""The grid spec and the partition keys and mappings it implies."""

from __future__ import annotations

from pathlib import Path

import pytest

from dagster_project.grid import load_grid, parse_selection_key, parse_training_key
from dagster_project.partitions import base_model_to_training, selection_to_training


def write_grid(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "grid.yaml"
    path.write_text(body)
    return path


def test_keys_cover_the_grid_and_parse_back(tmp_path: Path) -> None:
    grid = load_grid(write_grid(tmp_path, """
study: s1
selectors: [random, mig]
train_selectors: [mig]
budgets: [10, 20]
base_models: {tiny: embedded, other-model: /models/x}
"""))
    assert grid.selection_keys() == ["random__b10", "random__b20", "mig__b10", "mig__b20"]
    assert sorted(grid.training_keys()) == sorted(["mig__b10__tiny", "mig__b10__other-model",
                                                   "mig__b20__tiny", "mig__b20__other-model"])
    assert parse_selection_key("mig__b20") == ("mig", 20)
    assert parse_training_key("mig__b20__other-model") == ("mig", 20, "other-model")


def test_partition_mappings_connect_each_training_key_to_its_selection_and_model(tmp_path: Path) -> None:
    grid = load_grid(write_grid(tmp_path, """
study: s1
selectors: [random, mig]
budgets: [5]
base_models: {a: embedded, b: embedded}
"""))
    sel = selection_to_training(grid).downstream_partition_keys_by_upstream_partition_key
    assert sel["mig__b5"] == {"mig__b5__a", "mig__b5__b"}
    model = base_model_to_training(grid).downstream_partition_keys_by_upstream_partition_key
    assert model["a"] == {"mig__b5__a", "random__b5__a"}


def test_all_expands_to_every_registered_selector(tmp_path: Path) -> None:
    from selection_ops.registry import selector_names

    grid = load_grid(write_grid(tmp_path, "study: s\nselectors: [all]\ntrain_selectors: [random]\nbudgets: [3]\n"))
    assert list(grid.selectors) == selector_names()
    assert "random" in grid.selectors and grid.training_keys() == ["random__b3__embedded"]


@pytest.mark.parametrize("body, message", [
    ("study: s\nselectors: [nope]\nbudgets: [3]\n", "unknown selector 'nope'"),
    ("study: s\nselectors: [random]\ntrain_selectors: [mig]\nbudgets: [3]\n", "not in selectors"),
    ("study: S 1\nselectors: [random]\nbudgets: [3]\n", "not a slug"),
    ("study: s\nselectors: [random]\nbudgets: [0]\n", "budgets must be positive"),
])
def test_bad_grids_are_rejected_with_the_reason(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_grid(write_grid(tmp_path, body))


def test_selector_params_are_read_as_strings_and_checked(tmp_path: Path) -> None:
    grid = load_grid(write_grid(tmp_path, "study: s\nselectors: [random]\nbudgets: [3]\n"
                                          "selector_params: {duplicate: {unique: 8}}\n"))
    assert grid.selector_params == {"duplicate": {"unique": "8"}}
    with pytest.raises(ValueError, match="unknown selector 'nope'"):
        load_grid(write_grid(tmp_path, "study: s\nselectors: [random]\nbudgets: [3]\nselector_params: {nope: {}}\n"))

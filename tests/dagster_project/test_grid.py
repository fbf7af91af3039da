"""The grid file: variants, sweeps, budgets, base models, the default training set, and its keys and partitions."""

from __future__ import annotations

from pathlib import Path

import pytest

from dagster_project.grid import GridError, load_grid, parse_cell_key, parse_selection_key


def write_grid(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "grid.yaml"
    path.write_text(body)
    return path


def test_variants_sweeps_budgets_and_models_make_the_keys(tmp_path: Path) -> None:
    grid = load_grid(write_grid(tmp_path, """
study: s1
selectors: [random]
variants:
  mig-t85: {selector: mig, params: {threshold: 0.85}}
  mig-sweep: {selector: mig, params: {phi: pow}, sweep: {threshold: [0.9, 0.95], phi_b: [0.6, 0.8]}}
train: [mig-t85]
budgets: [10, 20]
base_models: {tiny: embedded, other-model: /models/x}
"""))
    assert grid.variant_names == ["random", "mig-t85", "mig-sweep-threshold0.9-phi_b0.6",
                                  "mig-sweep-threshold0.9-phi_b0.8", "mig-sweep-threshold0.95-phi_b0.6",
                                  "mig-sweep-threshold0.95-phi_b0.8"]
    swept = grid.variant("mig-sweep-threshold0.95-phi_b0.6")
    assert swept.selector == "mig" and swept.param_dict == {"phi": "pow", "threshold": "0.95", "phi_b": "0.6"}
    assert len(grid.selection_keys()) == 12 and "mig-t85__b20" in grid.selection_keys()
    assert grid.default_training_keys() == ["mig-t85__b10__tiny", "mig-t85__b10__other-model",
                                            "mig-t85__b20__tiny", "mig-t85__b20__other-model"]
    assert parse_selection_key("mig-t85__b20") == ("mig-t85", 20)
    assert parse_cell_key("mig-t85__b20__other-model") == ("mig-t85", 20, "other-model")


def test_the_grid_is_a_variant_by_budget_matrix(tmp_path: Path) -> None:
    from dagster_project.partitions import grid_partitions, partition_for, selection_of

    grid = load_grid(write_grid(tmp_path, "study: s\nselectors: [random, mig]\nbudgets: [3, 5]\n"))
    partitions = grid_partitions(grid)
    assert sorted(d.name for d in partitions.partitions_defs) == ["budget", "variant"]
    assert sorted(selection_of(k) for k in partitions.get_partition_keys()) == sorted(grid.selection_keys())
    assert selection_of(partition_for("mig__b5")) == "mig__b5" and str(partition_for("mig__b5")) == "b5|mig"


def test_a_changed_parameter_changes_only_that_variants_fingerprint(tmp_path: Path) -> None:
    body = "study: s\nselectors: [random, duplicate]\nselector_params: {{duplicate: {{unique: {u}}}}}\nbudgets: [3]\n"
    before = load_grid(write_grid(tmp_path, body.format(u=2)))
    after = load_grid(write_grid(tmp_path, body.format(u=3)))
    assert before.variant("random").fingerprint() == after.variant("random").fingerprint()
    assert before.variant("duplicate").fingerprint() != after.variant("duplicate").fingerprint()


def test_all_leaves_out_ifd_with_one_line_saying_how_to_enable_it(tmp_path: Path) -> None:
    from selection_ops.registry import selector_names

    grid = load_grid(write_grid(tmp_path, "study: s\nselectors: [all]\ntrain_selectors: [random]\nbudgets: [3]\n"))
    assert set(grid.variant_names) == set(selector_names()) - {"ifd"}
    (line,) = grid.left_out
    assert "IFD" in line and "extra_scorers" in line
    assert grid.default_training_keys() == ["random__b3__embedded"]
    explicit = load_grid(write_grid(tmp_path, "study: s\nselectors: [ifd]\nbudgets: [3]\n"))
    assert explicit.variant_names == ["ifd"] and not explicit.left_out


@pytest.mark.parametrize("body, message", [
    ("study: s\nselectors: [nope]\nbudgets: [3]\n", "unknown selector 'nope'"),
    ("study: s\nselectors: [random]\ntrain: [mig]\nbudgets: [3]\n", "not variants of the grid"),
    ("study: S 1\nselectors: [random]\nbudgets: [3]\n", "not a slug"),
    ("study: s\nselectors: [random]\nbudgets: [0]\n", "budgets must be positive"),
    ("study: s\nvariants: {a__b: {selector: random}}\nbudgets: [3]\n", "not a slug"),
    ("study: s\nvariants: {a: {selector: mig, sweep: {threshold: []}}}\nbudgets: [3]\n", "sweep must map"),
    ("study: s\nvariants: {a: {selector: nope}}\nbudgets: [3]\n", "variants.a.selector"),
    ("study: s\nselectors: [random]\nvariants: {random: {selector: mig}}\nbudgets: [3]\n", "unique"),
    ("budgets: [3]\n", "at least `study` and `budgets`"),
    ("study: s\nselectors: [random]\nbudgets: [3]\npool_row: yes please\n", "pool_row must be true or false"),
])
def test_bad_grids_are_rejected_with_the_file_and_field(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(GridError, match=message) as error:
        load_grid(write_grid(tmp_path, body))
    assert "grid.yaml" in str(error.value)


def test_the_embedded_default_grid_loads() -> None:
    grid = load_grid()
    assert grid.study == "embedded-default" and grid.budgets == (32,)
    assert grid.default_training_keys() == ["mig__b32__smollm2-135m", "random__b32__smollm2-135m",
                                            "kcenter__b32__smollm2-135m"]

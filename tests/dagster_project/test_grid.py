"""The grid file: variants, sweeps, budgets, seeds, base models, the default training set, and its keys and
partitions."""

from __future__ import annotations

from pathlib import Path

import pytest

from selection_ops.study.cells import CellRef, SelectionRef
from selection_ops.study.grid import GridError, load_grid


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
    assert SelectionRef.parse("mig-t85__b20") == ("mig-t85", 20, None)  # no seed suffix: the grid's own seed
    assert CellRef.parse("mig-t85__b20__other-model") == ("mig-t85", 20, "other-model", None)


def test_the_grid_is_a_variant_by_budget_matrix(tmp_path: Path) -> None:
    from assets.partitions import grid_partitions, partition_for, selection_of

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
    ("study: s\nselectors: [random]\nbudgets: [3]\nseeds: []\n", "seeds must be a non-empty list"),
    ("study: s\nselectors: [random]\nbudgets: [3]\nseeds: 3\n", "seeds must be a non-empty list"),
    ("study: s\nselectors: [random]\nbudgets: [3]\nseeds: [0, -1]\n", "seeds must be a non-empty list"),
    ("study: s\nselectors: [random]\nbudgets: [3]\nseeds: [0, '1']\n", "seeds must be a non-empty list"),
    ("study: s\nselectors: [random]\nbudgets: [3]\nseeds: [true]\n", "seeds must be a non-empty list"),
    ("study: s\nselectors: [random]\nbudgets: [3]\nseeds: [0, 1, 0]\n", "seeds must be unique"),
    ("study: s\nselectors: [random]\nbudgets: [3]\nseed: -2\n", "seed must be a non-negative integer"),
])
def test_bad_grids_are_rejected_with_the_file_and_field(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(GridError, match=message) as error:
        load_grid(write_grid(tmp_path, body))
    assert "grid.yaml" in str(error.value)


def test_the_embedded_default_grid_loads() -> None:
    grid = load_grid()
    assert grid.study == "embedded-default" and grid.budgets == (32,)
    assert grid.default_training_keys() == ["mig__b32__smollm2-135m", "random__b32__smollm2-135m",
                                            "duplicate__b32__smollm2-135m"]  # duplicate: the degenerate control


SEEDED = "study: s\nseed: {seed}\nselectors: [random, mig]\ntrain: [random]\nbudgets: [3, 5]\nbase_models: {{m: /x}}\n"


def test_without_seeds_a_grid_has_one_seed_and_the_keys_it_always_had(tmp_path: Path) -> None:
    grid = load_grid(write_grid(tmp_path, SEEDED.format(seed=0)))
    assert grid.repeat_seeds == (0,) and grid.budget_keys() == ["b3", "b5"]
    assert grid.selection_keys() == ["random__b3", "random__b5", "mig__b3", "mig__b5"]
    assert grid.default_training_keys() == ["random__b3__m", "random__b5__m"]
    listed = load_grid(write_grid(tmp_path, SEEDED.format(seed=0) + "seeds: [0]\n"))  # the same, spelled out
    assert listed.selection_keys() == grid.selection_keys() and listed.fingerprint() == grid.fingerprint()


def test_seeds_repeat_every_selection_and_cell_under_budget_keys_with_a_seed_suffix(tmp_path: Path) -> None:
    from assets.partitions import cell_of, grid_partitions, partition_for, selection_of

    one = load_grid(write_grid(tmp_path, SEEDED.format(seed=0)))
    grid = load_grid(write_grid(tmp_path, SEEDED.format(seed=0) + "seeds: [0, 1, 2]\n"))
    assert grid.budget_keys() == ["b3", "b3-s1", "b3-s2", "b5", "b5-s1", "b5-s2"]
    assert grid.default_training_keys() == ["random__b3__m", "random__b3-s1__m", "random__b3-s2__m",
                                            "random__b5__m", "random__b5-s1__m", "random__b5-s2__m"]
    assert set(one.selection_keys()) < set(grid.selection_keys())  # adding seeds re-keys no existing cell
    assert len(grid.selection_keys()) == 12 and "mig__b5-s2" in grid.selection_keys()
    partitions = grid_partitions(grid)
    assert sorted(selection_of(k) for k in partitions.get_partition_keys()) == sorted(grid.selection_keys())
    assert str(partition_for("mig__b5-s2")) == "b5-s2|mig" and selection_of("b5-s2|mig") == "mig__b5-s2"
    assert cell_of(partition_for("mig__b5-s2"), "m") == "mig__b5-s2__m" and cell_of("b5|mig", "m") == "mig__b5__m"
    ref = CellRef.parse("mig__b5-s2__m")
    assert ref == ("mig", 5, "m", 2) and ref.selection == "mig__b5-s2" and ref.cell == "mig__b5__m"
    assert SelectionRef.parse("mig__b5-s2") == ("mig", 5, 2) and grid.seed_of(2) == 2 and grid.seed_of(None) == 0


def test_the_unsuffixed_key_is_the_grids_own_seed(tmp_path: Path) -> None:
    grid = load_grid(write_grid(tmp_path, SEEDED.format(seed=7) + "seeds: [0, 7]\n"))
    assert grid.budget_keys() == ["b3-s0", "b3", "b5-s0", "b5"]
    assert grid.seed_of(SelectionRef.parse("mig__b3").seed) == 7 and grid.key_seed(0) == 0


def test_a_one_seed_grids_keys_and_spec_versions_are_those_from_before_seeds(tmp_path: Path) -> None:
    """Pinned from the code before seeds were an axis: an existing study's partitions and the data versions of
    ``selection_spec`` must not change, or every selection of it would re-run."""
    from assets.partitions import grid_partitions, selection_of
    from assets.selection import spec_for
    from assets.versioning import json_digest

    grid = load_grid(write_grid(tmp_path, """
study: alpha
seed: 0
pool: {limit_per_source: 5}
selectors: [random, kcenter]
variants:
  dup: {selector: duplicate, params: {unique: 2}}
train: [dup, random]
budgets: [3, 4]
base_models: {tiny: /fake/base-model}
"""))
    versions = {str(k): json_digest(spec_for(grid, selection_of(k)).__dict__)
                for k in grid_partitions(grid).get_partition_keys()}
    assert versions == {"b3|random": "cb3905a5a5ac5e4a", "b3|kcenter": "03ffb44468521b79",
                        "b3|dup": "674f04a8faed14a2", "b4|random": "d1368d5402f8b939",
                        "b4|kcenter": "21a11af0a1f07b3b", "b4|dup": "41978c4dd4c481f9"}
    assert grid.default_training_keys() == ["dup__b3__tiny", "dup__b4__tiny", "random__b3__tiny", "random__b4__tiny"]
    assert grid.fingerprint() == "483c76e1f564"

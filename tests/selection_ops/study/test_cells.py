"""The typed keys of a study's cells: formatted and parsed in one place, malformed keys refused by name."""

from __future__ import annotations

import re

import pytest

from selection_ops.study.cells import BudgetRef, CellRef, SelectionRef, variant_of


@pytest.mark.parametrize("ref, key", [
    (BudgetRef(32), "b32"),
    (BudgetRef(32, 1), "b32-s1"),
    (SelectionRef("mig", 48), "mig__b48"),  # no seed suffix: the grid's own seed
    (SelectionRef("mig-t0.85", 48, 2), "mig-t0.85__b48-s2"),
    (CellRef("mig", 48, "smollm2-135m"), "mig__b48__smollm2-135m"),
    (CellRef("random", 8, "m", 0), "random__b8-s0__m"),
])
def test_a_ref_and_its_key_round_trip(ref, key: str) -> None:
    assert ref.key == str(ref) == key
    assert type(ref).parse(key) == ref


def test_a_cell_names_its_selection_and_its_seedless_cell() -> None:
    cell = CellRef.parse("mig__b5-s2__m")
    assert cell == ("mig", 5, "m", 2) and cell.selection_ref == SelectionRef("mig", 5, 2)
    assert cell.selection == "mig__b5-s2" and cell.cell == "mig__b5__m"
    assert SelectionRef("mig", 5, 2).trained_on("m") == cell and SelectionRef("mig", 5, 2).budget_key == "b5-s2"


@pytest.mark.parametrize("ref, key, message", [
    (SelectionRef, "mig__32", "budget key '32' is not b<budget> or b<budget>-s<seed>"),
    (SelectionRef, "mig__b32-1", "budget key 'b32-1'"),
    (SelectionRef, "mig__b-s1", "budget key 'b-s1'"),
    (SelectionRef, "mig__b32-s", "budget key 'b32-s'"),
    (SelectionRef, "mig__b32__m", "selection key 'mig__b32__m' is not <variant>__<budget key>"),
    (SelectionRef, "mig", "selection key 'mig' is not <variant>__<budget key>"),
    (SelectionRef, "Mig__b32", "'Mig' is not a slug"),
    (SelectionRef, "__b32", "'' is not a slug"),
    (CellRef, "mig__b32", "cell key 'mig__b32' is not <variant>__<budget key>__<model>"),
    (CellRef, "mig__b32__m__x", "is not <variant>__<budget key>__<model>"),
    (CellRef, "mig__b32__", "'' is not a slug"),
    (CellRef, "mig__x32__m", "budget key 'x32'"),
])
def test_malformed_keys_are_refused_by_name(ref, key: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        ref.parse(key)


@pytest.mark.parametrize("label, variant", [
    ("mig__b32__m", "mig"),
    ("duplicate__b16-s1__m", "duplicate"),
    ("kcenter__b8", "kcenter"),
    ("baseline__m", "baseline__m"),  # the untuned baseline and the Pool row name no variant
    ("pool__m", "pool__m"),
    ("run3", "run3"),
])
def test_variant_of_a_run_label(label: str, variant: str) -> None:
    assert variant_of(label) == variant

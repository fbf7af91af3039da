"""The keys of a study's cells, as typed values: a budget, a selection, a trained cell.

Keys are slugs ``[a-z0-9._-]`` joined with ``__``: a selection is ``<variant>__<budget key>`` (``mig__b32``), a
trained cell ``<variant>__<budget key>__<model>`` (``mig__b32__smollm2-135m``). The budget key carries the seed:
``b32`` at the grid's own ``seed``, ``b32-s1`` at seed 1 (any other seed of ``seeds``). The grid's own seed has no
suffix so that a grid without ``seeds`` keeps the keys it had before seeds were an axis, and adding seeds never
re-keys a cell. A *key seed* is that suffix: ``None`` for the grid's own seed (``GridSpec.key_seed`` and
``GridSpec.seed_of`` convert).

Every key is formatted (``.key``, ``str()``) and parsed (``.parse``) here; ``assets.partitions`` maps them to
Dagster's matrix.
"""

from __future__ import annotations

import re
from typing import NamedTuple

SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]*$")  # a key's parts (study, variant, model) and nothing with '__'
SEPARATOR = "__"
_BUDGET_KEY = re.compile(r"^b(?P<budget>[0-9]+)(?:-s(?P<seed>[0-9]+))?$")


def _parts(key: str, what: str, shape: str, count: int) -> list[str]:
    """``key`` split at ``__`` into ``count`` slugs (the budget key is checked by ``BudgetRef.parse``)."""
    parts = str(key).split(SEPARATOR)
    if len(parts) != count:
        raise ValueError(f"{what} key {key!r} is not {shape}")
    for part in parts:
        if not SLUG.match(part):
            raise ValueError(f"{what} key {key!r} is not {shape}: {part!r} is not a slug [a-z0-9._-]")
    return parts


class BudgetRef(NamedTuple):
    """A budget and its key seed (None: the grid's own seed); its key is ``b32`` or ``b32-s1``."""

    budget: int
    seed: int | None = None

    @property
    def key(self) -> str:
        return f"b{self.budget}" if self.seed is None else f"b{self.budget}-s{self.seed}"

    def __str__(self) -> str:
        return self.key

    @classmethod
    def parse(cls, key: str) -> BudgetRef:
        """``"b32"`` -> ``(32, None)``, ``"b32-s1"`` -> ``(32, 1)``."""
        match = _BUDGET_KEY.match(str(key))
        if not match:
            raise ValueError(f"budget key {key!r} is not b<budget> or b<budget>-s<seed>")
        seed = match["seed"]
        return cls(int(match["budget"]), None if seed is None else int(seed))


class SelectionRef(NamedTuple):
    """A selection: a variant at a budget and key seed (None: the grid's own seed); key ``mig__b32-s1``."""

    variant: str
    budget: int
    seed: int | None = None

    @property
    def budget_key(self) -> str:
        return BudgetRef(self.budget, self.seed).key

    @property
    def key(self) -> str:
        return f"{self.variant}{SEPARATOR}{self.budget_key}"

    def __str__(self) -> str:
        return self.key

    def trained_on(self, model: str) -> CellRef:
        """The cell of this selection fine-tuned on ``model``."""
        return CellRef(self.variant, self.budget, model, self.seed)

    @classmethod
    def parse(cls, key: str) -> SelectionRef:
        """``"mig__b48"`` -> ``("mig", 48, None)``; ``"mig__b48-s2"`` -> ``("mig", 48, 2)``."""
        variant, budget = _parts(key, "selection", "<variant>__<budget key>", 2)
        return cls(variant, *BudgetRef.parse(budget))


class CellRef(NamedTuple):
    """A trained cell: a selection fine-tuned on a base model; key ``mig__b32-s1__smollm2-135m``."""

    variant: str
    budget: int
    model: str
    seed: int | None = None

    @property
    def key(self) -> str:
        return f"{self.selection}{SEPARATOR}{self.model}"

    def __str__(self) -> str:
        return self.key

    @property
    def selection_ref(self) -> SelectionRef:
        return SelectionRef(self.variant, self.budget, self.seed)

    @property
    def selection(self) -> str:
        """The key of the selection this cell trains on (same seed)."""
        return self.selection_ref.key

    @property
    def cell(self) -> str:
        """The cell over all its seeds (the MLflow ``cell`` tag): the key without a seed suffix."""
        return self._replace(seed=None).key

    @classmethod
    def parse(cls, key: str) -> CellRef:
        """``"mig__b48__smollm2-135m"`` -> ``("mig", 48, "smollm2-135m", None)``; ``"mig__b48-s2__m"`` -> seed 2."""
        variant, budget, model = _parts(key, "cell", "<variant>__<budget key>__<model>", 3)
        budget, seed = BudgetRef.parse(budget)
        return cls(variant, budget, model, seed)


def variant_of(label: str) -> str:
    """The variant a run's label names: ``mig`` for the cell ``mig__b32__m`` or the selection ``mig__b32``. A label
    that is neither (the untuned baseline ``baseline__<model>``, the Pool row ``pool__<model>``, a run's own name)
    names no variant and is returned as it is."""
    for ref in (CellRef, SelectionRef):
        try:
            return ref.parse(label).variant
        except ValueError:
            continue
    return label

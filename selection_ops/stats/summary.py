"""The verdict table in a few lines of markdown: per benchmark row family, which pairs differ and, for those that
do not, the smallest difference the data could have shown."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from selection_ops.stats.power import ALPHA


def _number(value: object, signed: bool = False) -> str:
    """Two decimals from 1 on, three significant digits below (bits per byte move in thousandths)."""
    if not (isinstance(value, (int, float)) and math.isfinite(value)):
        return "-"
    sign = "+" if signed else ""
    return f"{value:{sign}.2f}" if abs(value) >= 1 or value == 0 else f"{value:{sign}.3g}"


def _p(value: object) -> str:
    if not (isinstance(value, (int, float)) and math.isfinite(value)):
        return "-"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def verdicts_markdown(rows: Sequence[Mapping[str, object]], alpha: float = ALPHA) -> str:
    """A table: benchmark | pairs that differ (winner beats loser by winner - loser, Holm p) | indistinguishable
    pairs (their MDE). ``rows``: the verdict table's records (``verdicts.PAIR_COLUMNS``, ``proxy``)."""
    if not rows:
        return ""
    families: dict[str, list[Mapping[str, object]]] = {}
    for row in rows:
        families.setdefault(str(row["benchmark"]), []).append(row)
    lines = [f"| benchmark | differ (Holm-adjusted p < {alpha:g}) | indistinguishable (MDE at 80 % power) |",
             "|---|---|---|"]
    for key, family in families.items():
        differ, same = [], []
        for row in family:
            if row["verdict"] == "indistinguishable":
                same.append(f"{row['a']} ~ {row['b']} ({_number(row['mde'])})")
                continue
            a_wins = row["verdict"] == "a better"
            winner, loser = (row["a"], row["b"]) if a_wins else (row["b"], row["a"])
            margin = float(row["diff"]) * (1 if a_wins else -1)
            differ.append(f"{winner} beats {loser} ({_number(margin, signed=True)}, p {_p(row['p_holm'])})")
        label = key + (" (proxy)" if row.get("proxy") else "")
        lines.append(f"| {label} | {'; '.join(differ) or '-'} | {'; '.join(same) or '-'} |")
    return "\n".join(lines)

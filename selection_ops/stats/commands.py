"""``infosift power`` and ``infosift agreement`` (registered by ``selection_ops.cli``; user errors are ValueErrors,
which the CLI prints as one line with exit code 2).

    infosift power --questions QUESTIONS.csv --pairs A,B [--pairs C,D ...] [--target-mde X] [--benchmark KEY]
                   [--alpha 0.05] [--power 0.8] [--out FILE.json]
    infosift agreement --a A.csv --b B.csv --column COLUMN [--out DIR] [--resamples B] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import pandas as pd

from selection_ops.foundation.atomic import check_output_path, write_text_atomic


def add_power_parser(commands: argparse._SubParsersAction) -> None:
    power = commands.add_parser(
        "power", help="the smallest difference a study can see, and the questions / seeds a target needs",
        description="From the per-question scores of each pair of runs (paired SD of the differences, seed SD when "
                    "the table has a seed column), print per benchmark: n, paired SD, seed SD, the minimum "
                    "detectable effect now (two-sided alpha, power), and with --target-mde the questions and seeds "
                    "a study needs to see that difference. Units: the benchmark's native scale.")
    power.add_argument("--questions", required=True, help="per-question CSV: run, benchmark, question, score "
                                                          "[, seed, cluster]")
    power.add_argument("--pairs", action="append", required=True, metavar="A,B",
                       help="a pair of run names (repeatable)")
    power.add_argument("--target-mde", type=float, default=None, metavar="X",
                       help="the difference to detect, on the benchmark's native scale")
    power.add_argument("--benchmark", default=None, metavar="KEY", help="only this benchmark (default: all)")
    power.add_argument("--alpha", type=float, default=0.05, help="two-sided level (default 0.05)")
    power.add_argument("--power", type=float, default=0.80, help="power (default 0.80)")
    power.add_argument("--out", default=None, metavar="FILE.json", help="write the rows as JSON here")


def parse_pairs(items: list[str]) -> list[tuple[str, str]]:
    """``["A,B", "C,D"]`` -> ``[("A", "B"), ("C", "D")]``; ValueError for anything but two distinct names."""
    pairs = []
    for item in items:
        names = [name.strip() for name in item.split(",")]
        if len(names) != 2 or not all(names) or names[0] == names[1]:
            raise ValueError(f"--pairs {item!r} must name two different runs: A,B")
        pairs.append((names[0], names[1]))
    return pairs


def _cell(value: float, digits: int | None = None) -> str:
    """A number for the table: ``digits`` decimals for counts (0), else three significant digits (bits per byte
    differ in the third decimal, accuracies in whole points)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float) and math.isinf(value):
        return "never"
    if isinstance(value, float) and value.is_integer() and digits == 0:
        return f"{int(value)}"
    return f"{value:.{digits}f}" if digits is not None else f"{value:.3g}"


def format_power(rows: pd.DataFrame, target_mde: float | None) -> str:
    """One table per benchmark: pair, n, paired SD, seed SD (a / b, with seeds), MDE, and the needs of a target."""
    blocks = []
    target = f" for {target_mde:g}" if target_mde is not None else ""
    headers = ["pair", "n", "clusters", "paired SD", "seed SD a / b (seeds)", "MDE", f"questions{target}",
               f"seeds{target}"]
    for key, part in rows.groupby("benchmark", sort=False):
        lines = [[f"{r.a} vs {r.b}", str(r.n), str(r.clusters), _cell(r.sd_paired),
                  f"{_cell(r.seed_sd_a)} / {_cell(r.seed_sd_b)} ({r.seeds_a}, {r.seeds_b})", _cell(r.mde),
                  _cell(r.questions_needed, 0), _cell(r.seeds_needed, 0)] for r in part.itertuples()]
        widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(headers)]
        table = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)),
                 "  ".join("-" * w for w in widths)]
        table += ["  ".join(c.ljust(w) for c, w in zip(line, widths)) for line in lines]
        blocks.append(f"{key} (native scale)\n" + "\n".join(table))
    return "\n\n".join(blocks) if blocks else "no pair shares a question on any benchmark"


def cmd_power(args: argparse.Namespace) -> int:
    from selection_ops.evaluation.questions import read_questions
    from selection_ops.stats.power import power_table

    pairs = parse_pairs(args.pairs)
    if args.target_mde is not None and not (args.target_mde > 0 and math.isfinite(args.target_mde)):
        raise ValueError(f"--target-mde must be a positive number, got {args.target_mde}")
    out = check_output_path(args.out, [args.questions]) if args.out else None
    questions = read_questions(args.questions)
    rows = power_table(questions, pairs, args.target_mde, args.benchmark, args.alpha, args.power,
                       source=str(args.questions))
    print(format_power(rows, args.target_mde))
    if out is not None:
        records = [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
                   for row in rows.to_dict("records")]
        write_text_atomic(out, json.dumps({"questions": str(args.questions), "alpha": args.alpha,
                                           "power": args.power, "target_mde": args.target_mde, "rows": records},
                                          indent=2, default=_plain) + "\n")
    return 0


def add_agreement_parser(commands: argparse._SubParsersAction) -> None:
    agreement = commands.add_parser(
        "agreement", help="do two studies order the same runs the same way",
        description="Over the runs both CSV tables share (a 'run' column): decision accuracy (share of run pairs "
                    "ordered the same way; a pair tied in one study counts 1/2, tied in both 1), Kendall's tau-b and "
                    "Spearman's rho of COLUMN, each with a bootstrap interval over runs.")
    agreement.add_argument("--a", required=True, help="first CSV table (one row per run)")
    agreement.add_argument("--b", required=True, help="second CSV table (one row per run)")
    agreement.add_argument("--column", required=True, help="the score column both tables have (e.g. avg)")
    agreement.add_argument("--out", default=None, metavar="DIR", help="write agreement.json and agreement.csv here")
    agreement.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples (default 2000)")
    agreement.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")


def format_agreement(result) -> str:
    lines = [f"agreement of {result.column} over {result.n} runs, {result.pairs} pairs: {result.agree} same order, "
             f"{result.disagree} opposite, {result.tied_one} tied in one study, {result.tied_both} tied in both",
             f"{'statistic':<18}  {'value':>6}  {int(100 * result.level)}% interval"]
    for name, label in (("decision_accuracy", "decision accuracy"), ("kendall_tau", "Kendall tau-b"),
                        ("spearman_rho", "Spearman rho")):
        value, low, high = (getattr(result, name + suffix) for suffix in ("", "_low", "_high"))
        lines.append(f"{label:<18}  {_cell(value, 3):>6}  [{_cell(low, 3)}, {_cell(high, 3)}]")
    return "\n".join(lines)


def cmd_agreement(args: argparse.Namespace) -> int:
    from selection_ops.stats.agreement import STATISTICS, agreement_of_tables

    if args.resamples < 1:
        raise ValueError(f"--resamples must be a positive integer, got {args.resamples}")
    tables = []
    for option, path in (("--a", args.a), ("--b", args.b)):
        if not Path(path).is_file():
            raise FileNotFoundError(f"{option} {path}: no such file")
        tables.append(pd.read_csv(path, dtype={"run": str}))
    out_dir = Path(args.out) if args.out else None
    if out_dir is not None:
        for name in ("agreement.json", "agreement.csv"):
            check_output_path(out_dir / name, [args.a, args.b])
    result = agreement_of_tables(*tables, args.column, source_a=str(args.a), source_b=str(args.b),
                                 resamples=args.resamples, seed=args.seed)
    print(format_agreement(result))
    if out_dir is not None:
        write_text_atomic(out_dir / "agreement.json", json.dumps(
            {"a": str(args.a), "b": str(args.b), **result.as_dict()}, indent=2) + "\n")
        rows = pd.DataFrame([{"statistic": name, "value": getattr(result, name),
                              "ci_low": getattr(result, name + "_low"), "ci_high": getattr(result, name + "_high"),
                              "n": result.n} for name in STATISTICS])
        write_text_atomic(out_dir / "agreement.csv", rows.to_csv(index=False))
    return 0


def _plain(value: object) -> object:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")

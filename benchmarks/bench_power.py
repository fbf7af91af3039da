"""Information per CPU-second: which benchmarks can tell two fine-tunes apart, and what each costs per model.

    .venv/bin/python benchmarks/bench_power.py --model mig=PATH --model random=PATH [--work-dir DIR] [--out FILE.md]

Each candidate of the embedded default's evaluation runs alone, through the real OpenCompass CLI, on every given
model: generative ARC-C (60 questions) and GSM8K (10), ARC-C in cloze form and reference bits per byte on
AlpacaEval's references (the likelihood channel, at the sizes given), and the preference half judged by the
embedded SmolLM2 (AlpacaEval 2 + MT-Bench, 2 questions each). A floor run (generative ARC-C on one question) measures
what every OpenCompass process costs before any benchmark: start-up and model load. Per candidate and score key the
table gives seconds per model (wall, and CPU of the OpenCompass process tree), the per-question sd, the paired sd
of the first two models' differences and the MDE at 80 % power for that pair (``selection_ops.stats.power``), and
the MDE relative to the spread of the score (sd across questions), so a reader sees which candidate buys most
resolution per second. A benchmark, not a test: it writes a markdown table.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from resources.judge import JudgeResource
from resources.opencompass import run_opencompass, run_preference
from selection_ops.evaluation.questions import question_frame, question_scale
from selection_ops.foundation.atomic import write_text_atomic
from selection_ops.stats.power import power_table


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def candidates(cloze_n: int, bpb_n: int, ref_chars: int) -> dict[str, Callable]:
    """Candidate name -> a function (model name, path, work dir) -> the run's per-question scores."""

    def objective(datasets: list[str], limits: dict[str, int], sample_limit: int | None = None,
                  reference_chars: int | None = None) -> Callable:
        def run(name: str, path: Path, work: Path):
            return run_opencompass(model_path=path, model_name=name, work_dir=work, datasets=datasets,
                                   sample_limit=sample_limit, sample_limits=limits,
                                   reference_chars=reference_chars).questions
        return run

    def preference(questions: int) -> Callable:
        def run(name: str, path: Path, work: Path):
            judge = JudgeResource(kind="embedded").settings()  # the converted SmolLM2 folder
            return run_preference(model_path=path, model_name=name, work_dir=work, judge=judge,
                                  benchmarks=["alpacaeval_v2", "mtbench"],
                                  sample_limits={"alpacaeval_v2": questions, "mtbench": questions}).questions
        return run

    return {
        "floor (ARC-C gen, 1 question)": objective(["arc_c"], {"arc_c": 1}),
        "ARC-C gen 60": objective(["arc_c"], {"arc_c": 60}),
        "GSM8K gen 10": objective(["gsm8k"], {}, sample_limit=10),
        f"ARC-C cloze {cloze_n}": objective(["arc_c_cloze"], {"arc_c_cloze": cloze_n}),
        f"ref BPB AlpacaEval {bpb_n}, first {ref_chars} chars": objective(
            ["ref_bpb_alpaca"], {"ref_bpb_alpaca": bpb_n}, reference_chars=ref_chars),
        "ref BPB AlpacaEval 20, whole answers": objective(["ref_bpb_alpaca"], {"ref_bpb_alpaca": 20}),
        "preference (SmolLM2 judge, 2+2)": preference(2),
        "preference (SmolLM2 judge, 1+1)": preference(1),
    }


def measure(models: dict[str, Path], work_dir: Path, cloze_n: int, bpb_n: int, ref_chars: int,
            only: str | None = None) -> pd.DataFrame:
    rows = []
    names = list(models)
    for candidate, run in candidates(cloze_n, bpb_n, ref_chars).items():
        if only and only not in candidate:
            continue
        frames, walls, cpus = [], [], []
        for name, path in models.items():
            work = work_dir / f"{len(rows)}_{name}"
            cpu0, t0 = _children_cpu(), time.monotonic()
            questions = run(name, path, work)
            walls.append(time.monotonic() - t0)
            cpus.append(_children_cpu() - cpu0)
            frames.append(question_frame(name, questions))
            print(f"{candidate:<34} {name:<12} {walls[-1]:6.1f} s wall {cpus[-1]:6.1f} s CPU", flush=True)
        table = pd.concat(frames, ignore_index=True)
        power = power_table(table, [(names[0], names[1])]) if len(names) > 1 else pd.DataFrame()
        for key, scores in table.groupby("benchmark", sort=False):
            first = scores[scores["run"] == names[0]]["score"] * question_scale(key)
            row = power[power["benchmark"] == key].iloc[0] if len(power) and key in set(power["benchmark"]) \
                else None
            sd = float(first.std(ddof=1)) if len(first) > 1 else float("nan")
            rows.append({"candidate": candidate, "score": key, "n": len(first),
                         "wall_s_per_model": sum(walls) / len(walls), "cpu_s_per_model": sum(cpus) / len(cpus),
                         **{f"mean.{n}": float(scores[scores["run"] == n]["score"].mean() * question_scale(key))
                            for n in names},
                         "sd_question": sd,
                         "sd_paired": float(row["sd_paired"]) if row is not None else None,
                         "mde": float(row["mde"]) if row is not None else None,
                         "mde_over_sd": float(row["mde"]) / sd if row is not None and sd > 0 else None})
            print("  " + " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                  for k, v in rows[-1].items()), flush=True)
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame) -> str:
    head = list(table.columns)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append", required=True, help="NAME=PATH (a model folder); twice")
    parser.add_argument("--work-dir", type=Path, default=Path(".infosift/bench_power"))
    parser.add_argument("--cloze", type=int, default=50, help="ARC-C cloze questions")
    parser.add_argument("--bpb", type=int, default=60, help="AlpacaEval references for bits per byte")
    parser.add_argument("--ref-chars", type=int, default=400, help="reference prefix scored (characters)")
    parser.add_argument("--only", default=None, help="run only the candidates whose name contains this")
    parser.add_argument("--out", type=Path, default=None, help="write the markdown table here")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    models = dict(item.split("=", 1) for item in args.model)
    table = measure({k: Path(v) for k, v in models.items()}, args.work_dir.resolve(), args.cloze, args.bpb,
                    args.ref_chars, args.only)
    text = markdown(table)
    print(text)
    if args.out:
        write_text_atomic(args.out, text + "\n")


if __name__ == "__main__":
    main()

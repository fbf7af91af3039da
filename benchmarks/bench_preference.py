"""Cost of the preference half per evaluated model at the embedded default (AlpacaEval 2 + MT-Bench, two
questions each, 64-token answers, SmolLM2-135M judging in probability mode), and what the judgement cache saves.

    python benchmarks/bench_preference.py [--work DIR]

Prints wall seconds and the OpenCompass process's CPU seconds (user + sys; on a shared machine the CPU time is the
steadier figure) for a first run and for a second run of the same model with the same judge (judgements cached).
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    from resources.base_model import convert_gguf_to_hf, default_base_model_gguf
    from resources.opencompass import DEFAULT_PREFERENCE_BENCHMARKS, DEFAULT_PREFERENCE_SAMPLE_LIMIT, run_preference
    from selection_ops.evaluation.judge import JudgeSettings

    work = args.work or Path(tempfile.mkdtemp(prefix="bench_preference_"))
    model = convert_gguf_to_hf(default_base_model_gguf(), work / "smollm2")
    judge = JudgeSettings(model_path=str(model))
    limits = {key: DEFAULT_PREFERENCE_SAMPLE_LIMIT for key in DEFAULT_PREFERENCE_BENCHMARKS}
    rows = []
    for attempt in ("first", "cached judgements"):
        wall, cpu = time.monotonic(), _child_cpu()
        result = run_preference(model_path=model, model_name="smol", work_dir=work / "run", judge=judge,
                                benchmarks=DEFAULT_PREFERENCE_BENCHMARKS, sample_limits=limits,
                                judgement_cache=work / "judgements")
        rows.append({"run": attempt, "wall_s": round(time.monotonic() - wall, 1),
                     "cpu_s": round(_child_cpu() - cpu, 1), "scores": result.scores, "n": result.n})
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()

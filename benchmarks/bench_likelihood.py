"""Cost of the likelihood channel per evaluated model: one OpenCompass run of SmolLM2-135M-Instruct on N AlpacaEval
references, N MT-Bench reference dialogues and N ARC-Challenge questions in cloze form, and what sharing a cloze
question's prompt across its choices saves.

    python benchmarks/bench_likelihood.py [--alpaca 20] [--mtbench 30] [--arc 50] [--batch-size 8] [--work DIR]

Prints, per OpenCompass dataset, the rows, the tokens forwarded (chat-templated prompt + continuation) and the
seconds between OpenCompass's "Start inferencing" lines (the model is loaded before the first); the whole run's
wall and CPU seconds (user + sys of the OpenCompass process); and, in this process, the seconds of
``ChatLikelihoodModel.get_ppl_tokenwise`` on the ARC rows with and without the shared prompt.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import tempfile
import time
from datetime import datetime
from pathlib import Path


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _dataset_seconds(log_path: Path) -> dict[str, float]:
    """Seconds from each "Start inferencing [<model>/<abbr>]" line to the next progress line (or the last)."""
    stamp = re.compile(r"^(\d\d/\d\d \d\d:\d\d:\d\d) - OpenCompass - INFO - (.*)$")
    events = []
    for line in log_path.read_text(errors="replace").splitlines():
        match = stamp.match(line)
        if match:
            events.append((datetime.strptime(match.group(1), "%m/%d %H:%M:%S"), match.group(2)))
    seconds = {}
    for i, (when, message) in enumerate(events):
        if message.startswith("Start inferencing ["):
            abbr = message.split("/", 1)[1].rstrip("]")
            later = [t for t, m in events[i + 1:] if m.startswith(("The Progress", "Start inferencing", "Task"))
                     or "eval" in m.lower()]
            seconds[abbr] = ((later[0] if later else events[-1][0]) - when).total_seconds()
    return seconds


def _sharing(model_path: Path, rows_path: Path, batch_size: int) -> dict[str, float]:
    """get_ppl_tokenwise seconds on the ARC rows, batch by batch, with and without shared prompts."""
    from selection_ops.evaluation import likelihood_model
    from selection_ops.evaluation.likelihood_model import ChatLikelihoodModel

    rows = [json.loads(line) for line in rows_path.read_text().splitlines()]
    model = ChatLikelihoodModel(path=str(model_path), model_kwargs={"torch_dtype": "torch.float32"},
                                max_seq_len=4096)
    timings = {}
    original = likelihood_model.shared_prompt_groups
    for name, grouping in (("shared_prompt", original), ("every_row_alone", lambda r: [[i] for i in range(len(r))])):
        likelihood_model.shared_prompt_groups = grouping
        start = time.monotonic()
        for i in range(0, len(rows), batch_size):
            batch = rows[i:i + batch_size]
            model.get_ppl_tokenwise([r["text"] for r in batch], [r["label"] for r in batch])
        timings[name] = round(time.monotonic() - start, 1)
    likelihood_model.shared_prompt_groups = original
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alpaca", type=int, default=20)
    parser.add_argument("--mtbench", type=int, default=30)
    parser.add_argument("--arc", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    from transformers import AutoTokenizer

    from resources.base_model import convert_gguf_to_hf, default_base_model_gguf
    from resources.opencompass import run_opencompass
    from selection_ops.evaluation.likelihood_data import dataset_path

    work = args.work or Path(tempfile.mkdtemp(prefix="bench_likelihood_"))
    model = convert_gguf_to_hf(default_base_model_gguf(), work / "smollm2")
    limits = {"ref_bpb_alpaca": args.alpaca, "ref_bpb_mtbench": args.mtbench, "arc_c_cloze": args.arc}
    wall, cpu = time.monotonic(), _child_cpu()
    result = run_opencompass(model_path=model, model_name="smol", work_dir=work / "run", datasets=list(limits),
                             sample_limit=None, sample_limits=limits, batch_size=args.batch_size)
    wall, cpu = time.monotonic() - wall, _child_cpu() - cpu
    tokenizer = AutoTokenizer.from_pretrained(model)
    seconds = _dataset_seconds(result.log_path)
    datasets = {}
    for abbr in seconds:
        text = dataset_path(work / "run" / "compass_data", abbr).read_text()
        rows = [json.loads(line) for line in text.splitlines()]
        tokens = sum(len(tokenizer(r["text"], add_special_tokens=False)["input_ids"]) for r in rows)
        datasets[abbr] = {"rows": len(rows), "tokens": tokens, "seconds": seconds[abbr]}
    report = {"batch_size": args.batch_size, "limits": limits, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
              "datasets": datasets, "proxy_scores": result.proxy_scores, "proxy_stderr": result.proxy_stderr,
              "proxy_n": result.proxy_n,
              "arc_get_ppl_tokenwise_s": _sharing(model, dataset_path(work / "run" / "compass_data", "arc_c_cloze"),
                                                  args.batch_size)}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()

"""Throughput of each annotator (samples/s) on real pool records, model loading excluded.

Records: the first N of the Alpaca, Dolly and LIMA pools in ``$INFOSIFT_DATA_DIR/pools`` (default
``<repo>/../shared/data``), interleaved, responses as they are (LIMA's are long: ~2,500 characters on average).
Each annotator is warmed up on 2 samples (model load, first-call overhead), then timed on the N records with
its ``annotate`` method, i.e. exactly what the pipeline runs per shard (no store I/O). Run:

    .venv/bin/python benchmarks/bench_annotation.py                       # CPU, the RESULTS_annotation.md sizes
    .venv/bin/python benchmarks/bench_annotation.py --n 256 --device cuda --annotators embedding_minilm,ifd_smollm2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable

from selection_ops.annotation.base import Annotator
from selection_ops.annotation.deita import DeitaScorer
from selection_ops.annotation.embedders import CausalLMEmbedder, EmbeddingAnnotator, SentenceTransformerEmbedder
from selection_ops.annotation.ifd import IFDScorer
from selection_ops.annotation.indicators import HandcraftedIndicators
from selection_ops.annotation.offline_tagger import KeyphraseTagger
from selection_ops.annotation.text import Sample, sample_from_record
from selection_ops.foundation.paths import data_dir


def annotators(device: str, batch: int) -> dict[str, Callable[[], Annotator]]:
    return {
        "handcrafted": HandcraftedIndicators,
        "embedding_minilm": lambda: EmbeddingAnnotator(SentenceTransformerEmbedder(batch_size=64, device=device)),
        "tags_keyphrase_minilm": lambda: KeyphraseTagger(SentenceTransformerEmbedder(batch_size=64, device=device)),
        "embedding_smollm2_mean256": lambda: EmbeddingAnnotator(CausalLMEmbedder(batch_size=batch, device=device)),
        "ifd_smollm2": lambda: IFDScorer(max_tokens=1024, batch_size=batch, device=device),
        "deita_complexity_smollm2": lambda: DeitaScorer("complexity", max_tokens=1024, batch_size=batch,
                                                        device=device),
        "deita_quality_smollm2": lambda: DeitaScorer("quality", max_tokens=1024, batch_size=batch, device=device),
    }


def load_samples(n: int) -> list[Sample]:
    data = data_dir() / "pools"
    files = ["alpaca_2k_sdft.json", "dolly_2k_sdft.json", "lima_train_sdft.json"]
    pools = [[r for r in json.loads((data / f).read_text()) if not r.get("history")] for f in files]
    samples = []
    for i in range(n):
        record = pools[i % 3][i // 3]
        prompt = "\n".join(p for p in (record["instruction"], record.get("input") or "") if p)
        turns = [{"role": "user", "content": prompt}, {"role": "assistant", "content": record["output"]}]
        samples.append(sample_from_record(f"{files[i % 3]}:{i // 3}", turns))
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=48, help="records timed per annotator")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=8, help="batch size of the causal-LM annotators")
    parser.add_argument("--annotators", default="", help="comma-separated subset of the names below (default all)")
    args = parser.parse_args()
    samples = load_samples(args.n)
    table = annotators(args.device, args.batch)
    names = args.annotators.split(",") if args.annotators else list(table)
    print(f"device={args.device} n={args.n} python={platform.python_version()} cpus={os.cpu_count()} "
          f"load_avg_1min_at_start={os.getloadavg()[0]:.1f}")
    print("| annotator | samples | seconds | samples/s |")
    print("|---|---:|---:|---:|")
    for name in names:
        annotator = table[name]()
        annotator.annotate(samples[:2])  # warm-up: model load and first-call overhead
        started = time.perf_counter()
        annotator.annotate(samples)
        elapsed = time.perf_counter() - started
        print(f"| {name} | {len(samples)} | {elapsed:.1f} | {len(samples) / elapsed:.2f} |", flush=True)


if __name__ == "__main__":
    main()

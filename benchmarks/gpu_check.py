"""The GPU paths of infosift, each timed once, in one table: the check ``benchmarks/gpu_check.sh`` runs.

Every check runs in its own subprocess with its own time limit, so a failing or slow one costs only its row and the
whole stays under ``--budget-s`` (default 570 s: 10 minutes on one H100/H200 with start-up to spare). A check that
cannot run (no CUDA, vLLM not installed, no judge model) prints its reason in the table instead of a figure.

    bash benchmarks/gpu_check.sh             # the real sizes, on the GPU
    bash benchmarks/gpu_check.sh --smoke     # tiny sizes on whatever device there is (CPU here): the wiring works
    bash benchmarks/gpu_check.sh --dry-run   # the plan (checks, sizes, limits) and an import check; no work

Sizes (full / smoke): MIG torch-cuda vs numba on a synthetic Zipf pool of 939K samples x 4,531 labels -> 50K picks
(MIG's own scale); NovelSelect torch, 10K of 100K x 4,096; NovelSum of 10K against 100K x 4,096; K-Center-Greedy
and QDIT with dense torch kernels; causal-LM embeddings and DEITA scoring throughput (samples/s) with transformers
and with vLLM; one bf16 LoRA step of LLaMA-Factory; the judge (``$INFOSIFT_JUDGE_MODEL``, a local folder of e.g.
CompassJudger-1-32B-Instruct; else the bundled SmolLM2-135M-Instruct stands in and the row says so).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

FULL = {"mig": (939_000, 4_531, 50_000), "novelselect": (100_000, 4_096, 10_000), "novelsum": (100_000, 4_096, 10_000),
        "kcenter": (100_000, 4_096, 10_000), "qdit": (100_000, 4_096, 2_000), "texts": 2_000, "judge": 64,
        "lora_steps": 1}
SMOKE = {"mig": (5_000, 300, 200), "novelselect": (2_000, 64, 100), "novelsum": (2_000, 64, 200),
         "kcenter": (2_000, 64, 100), "qdit": (2_000, 64, 50), "texts": 8, "judge": 2, "lora_steps": 1}
# check name -> share of the time budget (they sum to 1)
SHARES = {"mig": 0.18, "novelselect": 0.07, "novelsum": 0.08, "kcenter": 0.05, "qdit": 0.06, "embed_hf": 0.07,
          "embed_vllm": 0.1, "deita_hf": 0.07, "deita_vllm": 0.09, "lora_bf16": 0.13, "judge": 0.1}


def cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def unit_rows(n: int, dim: int, seed: int) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((n, dim), dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def timed(fn: Callable[[], object]) -> tuple[object, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def base_model(cache: Path) -> Path:
    """The bundled SmolLM2-135M-Instruct as an HF folder, converted once into ``cache``."""
    from resources.base_model import convert_gguf_to_hf, default_base_model_gguf

    target = cache / "smollm2-135m-hf"
    return target if (target / "config.json").is_file() else convert_gguf_to_hf(default_base_model_gguf(), target)


def real_texts(count: int) -> list:
    """``count`` real samples of the shared pools (Alpaca, Dolly, LIMA), as annotation ``Sample``s."""
    from selection_ops.annotation.pipeline import samples_from_pool
    from selection_ops.pool.load import load_pool
    from selection_ops.pool.spec import default_pool_spec

    pool = load_pool(default_pool_spec(limit_per_source=-(-count // 3)))
    return samples_from_pool(pool.head(count))


# --- the checks: each returns (size text, {column: value}) ---------------------------------------------------------

def check_mig(size: tuple[int, int, int], smoke: bool, cache: Path) -> tuple[str, dict]:
    from benchmarks.bench_mig import synthetic_pool
    from selection_ops.mig.params import MigParams
    from selection_ops.mig.sampler import mig_run

    n, labels, budget = size
    pool, build_s = timed(lambda: synthetic_pool(n, labels))
    params = MigParams(device="cpu")
    backends = ["numba", "torch-cuda" if cuda() else "torch-cpu"]
    times = {}
    for backend in backends:
        mig_run(pool.labels_per_sample[:1000], pool.scores[:1000], pool.graph, 10, params, backend=backend)  # warm
        run, times[backend] = timed(lambda: mig_run(pool.labels_per_sample, pool.scores, pool.graph, budget, params,
                                                    backend=backend))
        times[f"{backend}_picks"] = run.indices.tolist()
    same = times.pop("numba_picks") == times.pop(f"{backends[1]}_picks")
    return f"{n:,} x {labels:,} -> {budget:,}", {
        "seconds": times[backends[1]], "reference_s": times["numba"], "note":
        f"{backends[1]} vs numba {times['numba']:.2f} s; identical picks: {same}; pool built in {build_s:.0f} s"}


def check_novelselect(size: tuple[int, int, int], smoke: bool, cache: Path) -> tuple[str, dict]:
    from selection_ops.selectors.novelselect import novelselect_order

    n, dim, budget = size
    unit = unit_rows(n, dim, 0)
    density = np.random.default_rng(0).uniform(0.5, 1.5, n).astype(np.float32)
    _, seconds = timed(lambda: novelselect_order(unit, density, budget, 0, backend="torch"))
    return f"{budget:,} of {n:,} x {dim:,}", {"seconds": seconds, "note": f"torch on {'cuda' if cuda() else 'cpu'}"}


def check_novelsum(size: tuple[int, int, int], smoke: bool, cache: Path) -> tuple[str, dict]:
    from selection_ops.metrics.novelsum import novelsum_value

    n, dim, subset_size = size
    pool = unit_rows(n, dim, 1)
    subset = pool[np.random.default_rng(1).choice(n, subset_size, replace=False)]
    value, seconds = timed(lambda: novelsum_value(subset, subset, pool))
    return f"{subset_size:,} against {n:,} x {dim:,}", {"seconds": seconds, "note": f"NovelSum {value:.4f}"}


def check_kcenter(size: tuple[int, int, int], smoke: bool, cache: Path) -> tuple[str, dict]:
    from selection_ops.selectors.kcenter import kcenter_greedy_torch

    n, dim, budget = size
    unit = unit_rows(n, dim, 2)
    device = "cuda" if cuda() else "cpu"
    _, seconds = timed(lambda: kcenter_greedy_torch(unit, budget, 0, device=device))
    return f"{budget:,} of {n:,} x {dim:,}", {"seconds": seconds, "note": f"dense running min, torch on {device}"}


def check_qdit(size: tuple[int, int, int], smoke: bool, cache: Path) -> tuple[str, dict]:
    from selection_ops.selectors.qdit import DenseCoverage, TorchDenseCoverage, lazy_greedy, normalized_quality

    n, dim, budget = size
    unit = unit_rows(n, dim, 3)
    quality = normalized_quality(np.random.default_rng(3).random(n))

    def run() -> np.ndarray:
        coverage = TorchDenseCoverage(unit) if cuda() else DenseCoverage(unit)
        return lazy_greedy(coverage.initial_gains(), coverage.gains, coverage.add, quality, 0.7, budget)

    _, seconds = timed(run)
    return f"{budget:,} of {n:,} x {dim:,}", {"seconds": seconds, "note": "alpha 0.7, dense coverage"}


def _rate(count: int, seconds: float) -> dict:
    return {"seconds": seconds, "rate": count / seconds}


def check_embed_hf(count: int, smoke: bool, cache: Path) -> tuple[str, dict]:
    from selection_ops.annotation.embedders import CausalLMEmbedder

    samples = real_texts(count)
    embedder = CausalLMEmbedder(str(base_model(cache)), pooling="mean", max_tokens=256, batch_size=64)
    embedder.encode([s.text for s in samples[:2]])  # load outside the timing
    _, seconds = timed(lambda: embedder.encode([s.text for s in samples]))
    return f"{count:,} real samples, SmolLM2-135M", {**_rate(count, seconds), "note": "transformers, mean pooling"}


def _vllm():
    try:
        import vllm
    except ImportError as error:
        raise SkipCheck(f"vllm not installed ({error.name})") from None
    if not cuda():
        raise SkipCheck("vLLM needs a CUDA device")
    return vllm


def check_embed_vllm(count: int, smoke: bool, cache: Path) -> tuple[str, dict]:
    vllm = _vllm()
    samples = real_texts(count)
    try:
        engine = vllm.LLM(str(base_model(cache)), runner="pooling", max_model_len=2048, gpu_memory_utilization=0.3,
                          enforce_eager=True)
    except TypeError:  # vLLM before 0.10 names the pooling mode ``task``
        engine = vllm.LLM(str(base_model(cache)), task="embed", max_model_len=2048, gpu_memory_utilization=0.3,
                          enforce_eager=True)
    _, seconds = timed(lambda: engine.embed([s.text for s in samples], use_tqdm=False))
    return f"{count:,} real samples, SmolLM2-135M", {**_rate(count, seconds), "note": "vLLM pooling runner"}


def check_deita_hf(count: int, smoke: bool, cache: Path) -> tuple[str, dict]:
    from selection_ops.annotation.deita import DeitaScorer

    samples = real_texts(count)
    scorer = DeitaScorer("quality", str(base_model(cache)), max_tokens=1024, batch_size=16)
    scorer.annotate(samples[:2])
    _, seconds = timed(lambda: scorer.annotate(samples))
    return f"{count:,} real samples, SmolLM2 as scorer", {**_rate(count, seconds),
                                                          "note": "transformers, DEITA quality prompt"}


def check_deita_vllm(count: int, smoke: bool, cache: Path) -> tuple[str, dict]:
    from selection_ops.annotation.deita import QUALITY_TEMPLATE

    vllm = _vllm()
    samples = real_texts(count)
    engine = vllm.LLM(str(base_model(cache)), max_model_len=2048, gpu_memory_utilization=0.3, enforce_eager=True)
    prompts = [QUALITY_TEMPLATE.format(instruction=s.instruction, output=s.response) for s in samples]
    params = vllm.SamplingParams(max_tokens=1, temperature=0.0, logprobs=20)
    _, seconds = timed(lambda: engine.generate(prompts, params, use_tqdm=False))
    return f"{count:,} real samples, SmolLM2 as scorer", {**_rate(count, seconds),
                                                          "note": "vLLM, first-token top-20 logprobs"}


def check_lora_bf16(steps: int, smoke: bool, cache: Path) -> tuple[str, dict]:
    from resources.llamafactory import LlamaFactoryTrainer

    records = [[{"role": "user", "content": s.instruction}, {"role": "assistant", "content": s.response}]
               for s in real_texts(16)]
    bf16 = cuda()
    overrides = {"max_steps": steps, "bf16": bf16, "cutoff_len": 512 if not smoke else 128}
    trainer = LlamaFactoryTrainer(recipe="lora_cpu_small", finetuning_type="lora", overrides=json.dumps(overrides))
    result = trainer.train(model_path=base_model(cache), records=records, output_dir=cache / "lora_check")
    return f"{steps} step(s), batch 8, SmolLM2-135M", {
        "seconds": result.wall_s, "note": f"{'bf16' if bf16 else 'fp32 (no CUDA)'}; loss {result.final_loss:.3f}; "
        "wall time includes the CLI start"}


def check_judge(count: int, smoke: bool, cache: Path) -> tuple[str, dict]:
    model = os.environ.get("INFOSIFT_JUDGE_MODEL", "")
    stand_in = not model
    path = str(base_model(cache)) if stand_in else model
    samples = real_texts(count)
    prompts = [f"Rate the response to the instruction from 1 to 10 and explain briefly.\n\nInstruction: "
               f"{s.instruction}\n\nResponse: {s.response}\n\nRating:" for s in samples]
    try:
        vllm = _vllm()
    except SkipCheck:
        vllm = None
    if vllm is not None:
        import torch

        engine = vllm.LLM(path, max_model_len=4096, tensor_parallel_size=torch.cuda.device_count() if not stand_in
                          else 1, gpu_memory_utilization=0.85 if not stand_in else 0.3)
        params = vllm.SamplingParams(max_tokens=256, temperature=0.0)
        _, seconds = timed(lambda: engine.generate(prompts, params, use_tqdm=False))
        how = "vLLM"
    else:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from selection_ops.foundation.devices import resolve_device

        device = resolve_device("auto")
        tokenizer = AutoTokenizer.from_pretrained(path)
        lm = AutoModelForCausalLM.from_pretrained(path).to(device)

        def generate() -> None:
            for prompt in prompts:
                ids = tokenizer(prompt, return_tensors="pt", truncation=True, max_length=1024).to(device)
                lm.generate(**ids, max_new_tokens=16 if smoke else 256, do_sample=False)

        _, seconds = timed(generate)
        how = f"transformers on {device}"
    name = "SmolLM2-135M stand-in (set INFOSIFT_JUDGE_MODEL)" if stand_in else Path(model).name
    return f"{count} judgments, {name}", {**_rate(count, seconds), "note": how}


MODEL_CHECKS = {"embed_hf", "embed_vllm", "deita_hf", "deita_vllm", "lora_bf16", "judge"}


class SkipCheck(Exception):
    """A check that cannot run here; its message is the table's note."""


# name -> (table title, function, size key, the module it needs: imported by --dry-run)
CHECKS: dict[str, tuple[str, Callable, str, str]] = {
    "mig": ("MIG torch vs numba", check_mig, "mig", "selection_ops.mig.sampler"),
    "novelselect": ("NovelSelect torch", check_novelselect, "novelselect", "selection_ops.selectors.novelselect"),
    "novelsum": ("NovelSum", check_novelsum, "novelsum", "selection_ops.metrics.novelsum"),
    "kcenter": ("K-Center-Greedy dense", check_kcenter, "kcenter", "selection_ops.selectors.kcenter"),
    "qdit": ("QDIT dense", check_qdit, "qdit", "selection_ops.selectors.qdit"),
    "embed_hf": ("causal-LM embeddings (transformers)", check_embed_hf, "texts", "selection_ops.annotation.embedders"),
    "embed_vllm": ("causal-LM embeddings (vLLM)", check_embed_vllm, "texts", "vllm"),
    "deita_hf": ("DEITA scoring (transformers)", check_deita_hf, "texts", "selection_ops.annotation.deita"),
    "deita_vllm": ("DEITA scoring (vLLM)", check_deita_vllm, "texts", "vllm"),
    "lora_bf16": ("LLaMA-Factory LoRA step, bf16", check_lora_bf16, "lora_steps", "resources.llamafactory"),
    "judge": ("judge throughput", check_judge, "judge", "transformers"),
}


def run_one(name: str, smoke: bool, cache: Path) -> dict:
    title, fn, size_key, _ = CHECKS[name]
    sizes = SMOKE if smoke else FULL
    try:
        size, values = fn(sizes[size_key], smoke, cache)
        return {"check": title, "size": size, **values}
    except SkipCheck as skip:
        return {"check": title, "size": "-", "note": f"skipped: {skip}"}


def table(rows: list[dict]) -> str:
    lines = ["| check | size | seconds | samples/s | note |", "|---|---|---:|---:|---|"]
    for row in rows:
        seconds = f"{row['seconds']:.3g}" if "seconds" in row else "-"  # 3 significant digits: smoke runs take ms
        rate = f"{row['rate']:.3g}" if "rate" in row else "-"
        lines.append(f"| {row['check']} | {row['size']} | {seconds} | {rate} | {row.get('note', '')} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--smoke", action="store_true", help="tiny sizes on any device (a wiring check)")
    mode.add_argument("--dry-run", action="store_true", help="print the plan and check imports; run nothing")
    parser.add_argument("--only", default=",".join(CHECKS), help="comma-separated checks: " + ", ".join(CHECKS))
    parser.add_argument("--budget-s", type=float, default=570.0, help="time for all checks together")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        parser.error(f"unknown check(s) {unknown}; choose from {list(CHECKS)}")

    if args.one:  # the subprocess of one check
        row = run_one(args.one, args.smoke, args.cache)
        from selection_ops.foundation.atomic import write_text_atomic

        write_text_atomic(args.result, json.dumps(row, default=float))  # the driver reads it only when whole
        return 0

    sizes = SMOKE if args.smoke else FULL
    total_share = sum(SHARES[n] for n in names)
    limits = {n: args.budget_s * SHARES[n] / total_share for n in names}
    if args.dry_run:
        import importlib

        print("| check | size | time limit (s) | imports |\n|---|---|---:|---|")
        for name in names:
            title, _, size_key, dependency = CHECKS[name]
            try:
                importlib.import_module(dependency)
                imports = f"{dependency} ok"
            except ImportError as error:
                imports = f"{dependency}: missing {error.name}"
            print(f"| {title} | {sizes[size_key]} | {limits[name]:.0f} | {imports} |")
        return 0

    import torch

    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA device (CPU)"
    print(f"# infosift GPU check ({'smoke' if args.smoke else 'full'} sizes) on {device}; "
          f"torch {torch.__version__}; budget {args.budget_s:.0f} s", flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="infosift_gpu_check_") as scratch:
        cache = Path(os.environ.get("INFOSIFT_GPU_CHECK_CACHE", scratch))
        if set(names) & MODEL_CHECKS:  # convert the bundled model once, before the checks' clocks start
            _, seconds = timed(lambda: base_model(cache))
            print(f"# SmolLM2-135M-Instruct ready in {seconds:.0f} s", file=sys.stderr, flush=True)
        for name in names:
            result = Path(scratch) / f"{name}.json"
            command = [sys.executable, str(Path(__file__).resolve()), "--one", name, "--cache", str(cache),
                       "--result", str(result)] + (["--smoke"] if args.smoke else [])
            started = time.perf_counter()
            try:
                proc = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=limits[name])
                if result.is_file():
                    rows.append(json.loads(result.read_text()))
                else:
                    tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
                    rows.append({"check": CHECKS[name][0], "size": "-", "note": f"failed: {tail[0][:160]}"})
            except subprocess.TimeoutExpired:
                rows.append({"check": CHECKS[name][0], "size": "-",
                             "note": f"over its {limits[name]:.0f} s limit"})
            print(f"# {name}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

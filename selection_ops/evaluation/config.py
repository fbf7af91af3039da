"""Generated OpenCompass configs: a copied base config (``eval_configs/*.py``) plus the model, limits and caps.

The base config is read through ``read_base`` from a copy beside the generated file, so a run's folder holds
everything OpenCompass read.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

from selection_ops.evaluation.benchmarks import RUNNABLE_BENCHMARKS, check_benchmarks, split_benchmarks
from selection_ops.foundation.atomic import write_text_atomic
from selection_ops.foundation.paths import REPO_ROOT

# the likelihood channel's datasets (copied next to every generated config that asks for one of them)
LIKELIHOOD_CONFIG = REPO_ROOT / "eval_configs" / "likelihood.py"


def resolve_model(model_path: str | Path) -> tuple[str, str | None]:
    """``(model path, peft path)``: a LoRA output folder (``adapter_config.json``) is evaluated as its base model
    plus the adapter; anything else is a full model (local folder or Hub id)."""
    adapter_config = Path(model_path) / "adapter_config.json"
    if adapter_config.is_file():
        base = json.loads(adapter_config.read_text()).get("base_model_name_or_path")
        if not base:
            raise ValueError(f"{adapter_config}: field 'base_model_name_or_path' is missing or empty")
        return str(base), str(Path(model_path).resolve())
    return str(model_path), None


def hf_model_entry(*, model_name: str, model_path: str | Path, max_out_len: int | None, batch_size: int,
                   use_gpu: bool, trust_remote_code: bool = False, max_seq_len: int = 2048) -> dict:
    """One ``HuggingFacewithChatTemplate`` model dict: greedy, float32 on CPU / bfloat16 on GPU, base +
    ``peft_path`` for a LoRA folder. ``trust_remote_code`` is off unless asked for: OpenCompass turns it on by
    default for model and tokenizer, which runs any Python a model folder ships."""
    path, peft_path = resolve_model(model_path)
    return {
        "abbr": model_name, "path": path, "peft_path": peft_path, "max_out_len": max_out_len or 512,
        "batch_size": batch_size, "max_seq_len": max_seq_len,
        "model_kwargs": {"torch_dtype": "torch.bfloat16" if use_gpu else "torch.float32",
                         "trust_remote_code": trust_remote_code},
        "tokenizer_kwargs": {"trust_remote_code": trust_remote_code},
        "generation_kwargs": {"do_sample": False}, "run_cfg": {"num_gpus": 1 if use_gpu else 0},
    }


def _check_limits(sample_limit: int | None, sample_limits: dict[str, int]) -> None:
    for name, limit in [("sample_limit", sample_limit), *sample_limits.items()]:
        if limit is not None and limit < 1:
            raise ValueError(f"sample limit of {name} must be >= 1 or None, got {limit}")


def copy_base_config(base_config: Path, config_dir: Path) -> str:
    """Copy ``base_config`` into ``config_dir`` under a module name the generated config imports; returns it."""
    base_module = f"infosift_base_{Path(base_config).stem}"
    Path(config_dir).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(base_config, Path(config_dir) / f"{base_module}.py")
    return base_module


def write_eval_config(config_dir: Path, *, base_config: Path, model_path: str | Path, model_name: str,
                      benchmarks: Sequence[str], sample_limit: int | None, max_out_len: int | None,
                      batch_size: int, use_gpu: bool = False, sample_limits: dict[str, int] | None = None,
                      trust_remote_code: bool = False) -> Path:
    """Write ``<config_dir>/eval_config.py`` (and a copy of ``base_config`` beside it, which it reads via read_base).

    ``benchmarks`` holds knowledge keys (``OBJECTIVE_BENCHMARKS``) and likelihood dataset keys
    (``LIKELIHOOD_BENCHMARKS``), so one OpenCompass process and one model load serve both. The generated config
    keeps the base config's datasets for the knowledge keys only, sets ``reader_cfg.test_range`` to the first
    ``sample_limit`` test items of every OpenCompass dataset (MMLU/BBH: of every subject; a benchmark named in
    ``sample_limits`` gets its own limit), caps every generating inferencer's ``max_out_len`` at ``max_out_len``.
    Likelihood keys take their datasets from a copy of ``eval_configs/likelihood.py``; their sample limits were
    applied when their rows were written (``likelihood_data``), so they get no ``test_range`` here, and the model is
    ``ChatLikelihoodModel`` (OpenCompass's chat model with an exact ``get_ppl_tokenwise``) instead of
    ``HuggingFacewithChatTemplate``. Adds one model (``hf_model_entry``). Returns the config's path.
    """
    knowledge, likelihood = split_benchmarks(benchmarks)
    sample_limits = dict(sample_limits or {})
    _check_limits(sample_limit, sample_limits)
    if sample_limits:
        check_benchmarks(list(sample_limits), RUNNABLE_BENCHMARKS)
    base_module = copy_base_config(base_config, config_dir)
    imports, collections = [], []
    if knowledge:
        imports.append(f"    from .{base_module} import benchmark_datasets, summarizer")
        collections.append("benchmark_datasets")
    if likelihood:
        imports.append(f"    from .{copy_base_config(LIKELIHOOD_CONFIG, config_dir)} import likelihood_datasets")
        collections.append("likelihood_datasets")
    model_import, model_class = (("from selection_ops.evaluation.likelihood_model import ChatLikelihoodModel",
                                  "ChatLikelihoodModel") if likelihood else
                                 ("from opencompass.models import HuggingFacewithChatTemplate",
                                  "HuggingFacewithChatTemplate"))
    model = hf_model_entry(model_name=model_name, model_path=model_path, max_out_len=max_out_len,
                           batch_size=batch_size, use_gpu=use_gpu, trust_remote_code=trust_remote_code)
    newline = "\n"
    text = f'''"""Generated by selection_ops.evaluation.config.write_eval_config for {model_name!r}; base: \\
{Path(base_config).name}."""
from mmengine.config import read_base
{model_import}

with read_base():
{newline.join(imports)}

_benchmarks = {knowledge!r}
_likelihood = {likelihood!r}
_sample_limit = {sample_limit!r}
_sample_limits = {sample_limits!r}
_max_out_len = {max_out_len!r}
datasets = []
_name = _dataset = _inferencer = _limit = None
for _name in _benchmarks:
    _limit = _sample_limits.get(_name, _sample_limit)
    for _dataset in benchmark_datasets[_name]:
        if _limit is not None:
            _dataset['reader_cfg']['test_range'] = f'[0:{{_limit}}]'
        _inferencer = _dataset['infer_cfg']['inferencer']
        if _max_out_len is not None:
            _inferencer['max_out_len'] = min(_inferencer.get('max_out_len') or _max_out_len, _max_out_len)
        datasets.append(_dataset)
for _name in _likelihood:  # rows already limited (selection_ops.evaluation.likelihood_data)
    datasets.extend(likelihood_datasets[_name])
del {", ".join(["_name", "_dataset", "_inferencer", "_limit", *collections])}

models = [dict(type={model_class}, **{model!r})]
'''
    config_path = Path(config_dir) / "eval_config.py"
    write_text_atomic(config_path, text)
    return config_path


def write_preference_config(config_dir: Path, *, base_config: Path, model: dict, judge_class: str, judge: dict,
                            datasets: dict[str, list[str]], max_out_len: int | None,
                            pairwise_order: str | None = None) -> Path:
    """Write ``<config_dir>/preference_config.py``: OpenCompass's subjective pipeline for one model.

    ``datasets``: benchmark key -> dataset abbrs whose data was laid out (``prepare_preference_data``); ``model``:
    a ``hf_model_entry``; ``judge_class`` / ``judge``: ``JudgeSettings.model_entry``. Inference runs with
    ``NaivePartitioner``, judging with ``SubjectiveNaivePartitioner`` (the model against each benchmark's reference
    models, ``m2n``) and ``SubjectiveEvalTask``; ``DefaultSubjectiveSummarizer`` writes the summary.
    ``pairwise_order`` (``random`` / ``double``) replaces the pairwise datasets' ``infer_order``; None keeps theirs.
    """
    if not datasets:
        raise ValueError("no preference benchmark to evaluate")
    base_module = copy_base_config(base_config, config_dir)
    text = f'''"""Generated by selection_ops.evaluation.config.write_preference_config for {model["abbr"]!r}; base: \\
{Path(base_config).name}; judge: {judge["judge_id"]}."""
from mmengine.config import read_base
from opencompass.models import HuggingFacewithChatTemplate
from opencompass.partitioners import NaivePartitioner
from opencompass.partitioners.sub_naive import SubjectiveNaivePartitioner
from opencompass.runners import LocalRunner
from opencompass.summarizers import DefaultSubjectiveSummarizer
from opencompass.tasks import OpenICLInferTask
from opencompass.tasks.subjective_eval import SubjectiveEvalTask

from selection_ops.evaluation.judge_models import {judge_class}

with read_base():
    from .{base_module} import benchmark_datasets

_keep = {datasets!r}
_max_out_len = {max_out_len!r}
_pairwise_order = {pairwise_order!r}
datasets = []
for _name, _abbrs in _keep.items():
    for _dataset in benchmark_datasets[_name]:
        if _dataset['abbr'] not in _abbrs:
            continue
        if _pairwise_order is not None and _dataset.get('mode') == 'm2n':  # pairwise against reference models
            _dataset['infer_order'] = _pairwise_order
        _inferencer = _dataset['infer_cfg']['inferencer']
        if _max_out_len is not None:
            _inferencer['max_out_len'] = min(_inferencer.get('max_out_len') or _max_out_len, _max_out_len)
        datasets.append(_dataset)
del _name, _abbrs, _dataset, _inferencer, benchmark_datasets

models = [dict(type=HuggingFacewithChatTemplate, **{model!r})]
judge_models = [dict(type={judge_class}, **{judge!r})]
infer = dict(partitioner=dict(type=NaivePartitioner),
             runner=dict(type=LocalRunner, max_num_workers=1, task=dict(type=OpenICLInferTask)))
eval = dict(partitioner=dict(type=SubjectiveNaivePartitioner, models=models, judge_models=judge_models),
            runner=dict(type=LocalRunner, max_num_workers=1, task=dict(type=SubjectiveEvalTask)))
summarizer = dict(type=DefaultSubjectiveSummarizer)
'''
    config_path = Path(config_dir) / "preference_config.py"
    write_text_atomic(config_path, text)
    return config_path

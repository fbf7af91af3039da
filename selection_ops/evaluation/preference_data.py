"""OpenCompass's subjective data layout (``$COMPASS_DATA_CACHE/data/subjective/...``) built from ``shared/data``.

What the loaders read (``opencompass/datasets/subjective/{alpacaeval,mtbench,wildbench}.py``) and the given
predictions of the reference models (``SubjectiveEvalTask._load_model_pred``: ``{"0": {"prediction": ...}, ...}``
in the dataset's order), as described at the end of ``shared/data/README.md``:

    alpaca_eval/alpaca_eval.json, alpaca_eval/gpt4-turbo/alpaca_eval.json
    mtbench/mtbench_{0.0,0.1,0.7}.json
    WildBench/wildbench.jsonl, WildBench/{gpt4,claude,llama2-70b}/wildbench.json

A sample limit is applied here, when the files are written (OpenCompass's ``test_range`` is not honoured for given
predictions), and spread over the benchmark's categories (round-robin in source order) so a few questions still
cover several kinds of task. WildBench's 1,024 tasks and reference outputs exist only on the Hugging Face Hub:
they are read from a local copy in the layout above, else from the Hub, else the benchmark fails naming what is
missing and where to get it.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

from selection_ops.evaluation.benchmarks import PREFERENCE_BENCHMARKS, EvaluationError, check_benchmarks
from selection_ops.evaluation.compass_data import require
from selection_ops.foundation.atomic import write_text_atomic

logger = logging.getLogger(__name__)

ALPACA_REFERENCE_ABBR = "gpt4-turbo"
# FastChat's temperature_config: the OpenCompass dataset each MT-Bench category belongs to
MTBENCH_TEMPERATURE = {"writing": "0.7", "roleplay": "0.7", "extraction": "0.0", "math": "0.0", "coding": "0.0",
                       "reasoning": "0.0", "stem": "0.1", "humanities": "0.1"}
# WildBench v2 reference models: (folder, OpenCompass abbr, Hub config of allenai/WildBench-V2-Model-Outputs)
WILDBENCH_REFERENCES = (("gpt4", "gpt4-turbo", "gpt-4-turbo-2024-04-09"),
                        ("claude", "HaiKu", "claude-3-haiku-20240307"),
                        ("llama2-70b", "llama-2-70b-chat-hf", "Llama-2-70b-chat-hf"))
WILDBENCH_TASKS_HUB = "allenai/WildBench (config v2, split test)"
WILDBENCH_OUTPUTS_HUB = "allenai/WildBench-V2-Model-Outputs"
WILDBENCH_TASK_FIELDS = ("turn", "checklist", "primary_tag", "secondary_tag", "session_id")


def spread_sample(items: Sequence[dict], category: Callable[[dict], str], limit: int | None) -> list[int]:
    """Indices of ``limit`` items taken round-robin over categories (each in source order); all when None."""
    if limit is None or limit >= len(items):
        return list(range(len(items)))
    by_category: dict[str, list[int]] = defaultdict(list)
    for index, item in enumerate(items):
        by_category[category(item)].append(index)
    picked: list[int] = []
    depth = 0
    while len(picked) < limit:
        for indices in by_category.values():
            if depth < len(indices) and len(picked) < limit:
                picked.append(indices[depth])
        depth += 1
    return sorted(picked)


def read_json(path: Path) -> object:
    """A JSON file (its absence named by ``require``); ValueError naming the file when it is not JSON."""
    try:
        return json.loads(require(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from None


def read_jsonl(path: Path) -> list[dict]:
    """A JSON-lines file's rows (blank lines skipped); ValueError naming the file and line of a bad one."""
    rows = []
    for line_no, line in enumerate(require(path).read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{line_no}: not valid JSON ({error})") from None
    return rows


def _predictions(outputs: Sequence[str]) -> str:
    return json.dumps({str(i): {"prediction": text} for i, text in enumerate(outputs)}, ensure_ascii=False,
                      indent=1)


def _field(row: dict, field: str, where: str) -> object:
    if field not in row:
        raise ValueError(f"{where}: missing field {field!r}")
    return row[field]


def build_alpaca_eval(data_dir: Path, root: Path, limit: int | None) -> list[str]:
    """AlpacaEval 2: the 805 instructions (``question``, ``dataset`` as ``capability``) and gpt-4-1106-preview's
    outputs as the ``gpt4-turbo`` given predictions. Returns the dataset abbrs written."""
    questions_path = data_dir / "alpaca_eval" / "alpaca_eval.json"
    reference_path = data_dir / "alpaca_eval_v2" / "gpt4_1106_preview_model_outputs.json"
    questions, references = read_json(questions_path), read_json(reference_path)
    if len(questions) != len(references):
        raise ValueError(f"{questions_path} has {len(questions)} items but {reference_path} {len(references)}")
    indices = spread_sample(questions, lambda q: str(q.get("dataset")), limit)
    items, outputs = [], []
    for i in indices:
        where = f"{questions_path} item {i}"
        instruction = _field(questions[i], "instruction", where)
        if _field(references[i], "instruction", f"{reference_path} item {i}") != instruction:
            raise ValueError(f"{reference_path} item {i}: instruction differs from {questions_path} (order changed?)")
        items.append({"question": instruction, "capability": _field(questions[i], "dataset", where), "others": {}})
        outputs.append(_field(references[i], "output", f"{reference_path} item {i}"))
    folder = root / "alpaca_eval"
    write_text_atomic(folder / "alpaca_eval.json", json.dumps(items, ensure_ascii=False, indent=1))
    write_text_atomic(folder / ALPACA_REFERENCE_ABBR / "alpaca_eval.json", _predictions(outputs))
    return ["alpaca_eval"]


def build_mtbench(data_dir: Path, root: Path, limit: int | None) -> list[str]:
    """MT-Bench: the 80 two-turn questions split by FastChat's temperature, with GPT-4's reference answers for
    math, reasoning and coding (``others.reference``). Returns the dataset abbrs that received questions."""
    questions_path = data_dir / "mt_bench" / "question.jsonl"
    references_path = data_dir / "mt_bench" / "reference_answer_gpt-4.jsonl"
    questions = read_jsonl(questions_path)
    references = {row["question_id"]: row["choices"][0]["turns"] for row in read_jsonl(references_path)}
    files: dict[str, list[dict]] = defaultdict(list)
    for i in spread_sample(questions, lambda q: str(q.get("category")), limit):
        where = f"{questions_path} line {i + 1}"
        category = _field(questions[i], "category", where)
        if category not in MTBENCH_TEMPERATURE:
            raise ValueError(f"{where}: field 'category' is {category!r}, not an MT-Bench category")
        dialogue = []
        for turn in _field(questions[i], "turns", where):
            dialogue += [{"role": "user", "content": turn}, {"role": "assistant", "content": ""}]
        others = {"question_id": questions[i].get("question_id")}
        if category in ("math", "reasoning", "coding"):
            if questions[i].get("question_id") not in references:
                raise ValueError(f"{references_path}: no reference answer for {where} ({category})")
            others["reference"] = references[questions[i]["question_id"]]
        files[f"mtbench_{MTBENCH_TEMPERATURE[category]}"].append(
            {"dialogue": dialogue, "capability": category, "others": others})
    for name, items in files.items():
        write_text_atomic(root / "mtbench" / f"{name}.json", json.dumps(items, ensure_ascii=False, indent=1))
    return [abbr for abbr in PREFERENCE_BENCHMARKS["mtbench"].abbrs if abbr in files]


def _wildbench_from_hub() -> tuple[list[dict], dict[str, list[str]]]:
    """The v2 tasks and the three reference models' outputs from the Hub, renamed to OpenCompass's fields."""
    import datasets

    tasks = []
    for row in datasets.load_dataset("allenai/WildBench", "v2", split="test"):
        tasks.append({"turn": row["conversation_input"], "checklist": row["checklist"],
                      "primary_tag": row["primary_tag"], "secondary_tag": row["secondary_tags"],
                      "session_id": row["session_id"]})
    outputs = {}
    for folder, _abbr, config in WILDBENCH_REFERENCES:
        by_session = {row["session_id"]: row["output"][0]
                      for row in datasets.load_dataset(WILDBENCH_OUTPUTS_HUB, config, split="train")}
        outputs[folder] = [by_session[task["session_id"]] for task in tasks]
    return tasks, outputs


def _wildbench_from_copy(source: Path) -> tuple[list[dict], dict[str, list[str]]]:
    tasks_path = source / "wildbench.jsonl"
    tasks = read_jsonl(tasks_path)
    for line_no, task in enumerate(tasks, start=1):
        for field in WILDBENCH_TASK_FIELDS:
            _field(task, field, f"{tasks_path} line {line_no}")
    outputs = {}
    for folder, _abbr, _config in WILDBENCH_REFERENCES:
        path = source / folder / "wildbench.json"
        predictions = read_json(path)
        if len(predictions) != len(tasks):
            raise ValueError(f"{path}: {len(predictions)} predictions for {len(tasks)} tasks in {tasks_path}")
        outputs[folder] = [_field(predictions[str(i)], "prediction", f"{path} entry {i}") for i in range(len(tasks))]
    return tasks, outputs


def wildbench_missing(source: Path) -> list[Path]:
    """The files of the documented local layout that ``source`` lacks."""
    needed = [source / "wildbench.jsonl"]
    needed += [source / folder / "wildbench.json" for folder, _, _ in WILDBENCH_REFERENCES]
    return [path for path in needed if not path.is_file()]


def build_wildbench(source: Path, root: Path, limit: int | None, *, allow_hub: bool = True) -> list[str]:
    """WildBench v2 from a local copy at ``source`` (the layout above), else the Hub; EvaluationError naming the
    missing files and where to get them when neither is available."""
    missing = wildbench_missing(source)
    if not missing:
        tasks, outputs = _wildbench_from_copy(source)
    else:
        hub_error = "Hub not tried"
        if allow_hub:
            try:
                tasks, outputs = _wildbench_from_hub()
                missing = []
            except Exception as error:  # offline, gated or renamed: the message below says what to do
                hub_error = f"{type(error).__name__}: {str(error)[:200]}"
        if missing:
            raise EvaluationError(
                "WildBench v2 needs its 1,024 tasks and three reference models' outputs, which exist only on the "
                f"Hugging Face Hub ({WILDBENCH_TASKS_HUB}; {WILDBENCH_OUTPUTS_HUB}, configs "
                f"{', '.join(c for _, _, c in WILDBENCH_REFERENCES)}). Missing local files: "
                f"{', '.join(str(p) for p in missing)}; Hub: {hub_error}. Write them in OpenCompass's layout "
                "(wildbench.jsonl with turn/checklist/primary_tag/secondary_tag/session_id; "
                "<ref>/wildbench.json as {\"0\": {\"prediction\": ...}}) or leave wildbench out of the benchmarks.")
    indices = spread_sample(tasks, lambda t: str(t.get("primary_tag")), limit)
    folder = root / "WildBench"
    write_text_atomic(folder / "wildbench.jsonl",
                      "".join(json.dumps(tasks[i], ensure_ascii=False) + "\n" for i in indices))
    for name, _abbr, _config in WILDBENCH_REFERENCES:
        write_text_atomic(folder / name / "wildbench.json", _predictions([outputs[name][i] for i in indices]))
    return ["wildbench"]


def prepare_preference_data(data_dir: Path, cache_dir: Path, benchmarks: Sequence[str], sample_limits:
                            dict[str, int | None], wildbench_source: Path | None = None,
                            allow_hub: bool = True) -> dict[str, list[str]]:
    """Write ``<cache_dir>/data/subjective/...`` for ``benchmarks``; returns benchmark -> dataset abbrs written.

    ``wildbench_source``: the local copy (default ``<data_dir>/wildbench/opencompass``)."""
    root = Path(cache_dir) / "data" / "subjective"
    data_dir = Path(data_dir)
    written = {}
    for key in check_benchmarks(benchmarks, PREFERENCE_BENCHMARKS):
        limit = sample_limits.get(key)
        if key == "alpacaeval_v2":
            written[key] = build_alpaca_eval(data_dir, root, limit)
        elif key == "mtbench":
            written[key] = build_mtbench(data_dir, root, limit)
        else:
            source = Path(wildbench_source) if wildbench_source else data_dir / "wildbench" / "opencompass"
            written[key] = build_wildbench(source, root, limit, allow_hub=allow_hub)
    return written

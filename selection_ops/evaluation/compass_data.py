"""OpenCompass's local data layout (``$COMPASS_DATA_CACHE/data/...``) for the knowledge benchmarks, built from
``shared/data``: files already in OpenCompass's format are symlinked, ARC and MMLU converted, HumanEval decompressed.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Callable, Sequence
from pathlib import Path

from selection_ops.evaluation.benchmarks import BENCHMARKS, check_benchmarks
from selection_ops.foundation.atomic import write_text_atomic
from selection_ops.foundation.paths import DATA_DIR_ENV


def require(path: Path) -> Path:
    """``path`` when it exists; FileNotFoundError naming it and the setting that moves the data folder."""
    if not path.exists():
        raise FileNotFoundError(f"benchmark data not found: {path} (set {DATA_DIR_ENV} or the runner's data_dir)")
    return path


def link(source: Path, target: Path) -> None:
    """``target`` becomes a symlink to ``source`` (replacing what was there)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.exists():
        target.unlink()
    target.symlink_to(require(source).resolve())


def write_if_changed(target: Path, text: str) -> None:
    """Write ``text`` atomically unless ``target`` already holds it (keeps mtimes of unchanged conversions)."""
    if not target.is_file() or target.read_text(encoding="utf-8") != text:
        write_text_atomic(target, text)


def read_arc_rows(source: Path) -> list[dict]:
    """HF ``ai2_arc`` rows (``question`` str, ``choices.{text,label}``, ``answerKey``) of a JSONL file, each checked
    for its fields; ValueError naming the file, line and field."""
    rows = []
    for line_no, line in enumerate(require(source).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        for key in ("question", "choices", "answerKey"):
            if key not in row:
                raise ValueError(f"{source}:{line_no}: missing field {key!r}")
        if row["answerKey"] not in row["choices"]["label"]:
            raise ValueError(f"{source}:{line_no}: field 'answerKey' {row['answerKey']!r} is not one of the choice "
                             f"labels {row['choices']['label']}")
        rows.append(row)
    return rows


def arc_questions(source: Path) -> list[dict]:
    """The questions ``opencompass.datasets.ARCDataset`` keeps, in its order (4-choice questions only), as
    ``{"id", "question", "choices": [4 texts], "gold": index of the correct choice}``: index ``i`` here is
    index ``i`` of OpenCompass's ``ARC-c`` dataset, so both forms of ARC share question ids."""
    questions = []
    for row in read_arc_rows(source):
        labels, texts = row["choices"]["label"], row["choices"]["text"]
        if len(texts) != 4:
            continue
        questions.append({"id": row.get("id"), "question": row["question"], "choices": list(texts),
                          "gold": labels.index(row["answerKey"])})
    return questions


def _arc_to_ai2_jsonl(source: Path) -> str:
    """HF ``ai2_arc`` rows (``question`` str, ``choices.{text,label}``) -> AI2's original jsonl that
    ``opencompass.datasets.ARCDataset`` reads (``question.stem``, ``question.choices[{label, text}]``)."""
    lines = []
    for row in read_arc_rows(source):
        choices = [{"label": label, "text": text} for label, text in zip(row["choices"]["label"],
                                                                          row["choices"]["text"], strict=True)]
        lines.append(json.dumps({"id": row.get("id"), "question": {"stem": row["question"], "choices": choices},
                                 "answerKey": row["answerKey"]}, ensure_ascii=False))
    return "\n".join(lines) + "\n"


def read_mmlu_rows(source: Path) -> list[list[str]]:
    """``question,choice0..3,answer`` rows (header checked, answer index 0-3) of one subject's CSV; ValueError
    naming the file, line and field."""
    with open(require(source), encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header != ["question", "choice0", "choice1", "choice2", "choice3", "answer"]:
            raise ValueError(f"{source}: unexpected header {header}")
        rows = []
        for line_no, row in enumerate(reader, start=2):
            if len(row) != 6:
                raise ValueError(f"{source}:{line_no}: {len(row)} columns, expected 6")
            if row[5] not in ("0", "1", "2", "3"):
                raise ValueError(f"{source}:{line_no}: field 'answer' is {row[5]!r}, expected 0-3")
            rows.append(row)
    return rows


def _mmlu_to_hendrycks_csv(source: Path) -> str:
    """``question,choice0..3,answer`` (header, answer index 0-3) -> hendrycks' headerless 6-column CSV with the
    answer as a letter, which ``opencompass.datasets.MMLUDataset`` reads."""
    out_rows = [[*row[:5], "ABCD"[int(row[5])]] for row in read_mmlu_rows(source)]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(out_rows)
    return buffer.getvalue()


def _layout_arc_c(src: Path, root: Path) -> None:
    write_if_changed(root / "ARC" / "ARC-c" / "ARC-Challenge-Test.jsonl",
                     _arc_to_ai2_jsonl(require(src / "ARC-Challenge-test.jsonl")))


def _layout_mmlu(src: Path, root: Path) -> None:
    for split in ("dev", "test"):
        files = sorted(require(src / split).glob(f"*_{split}.csv"))
        if not files:
            raise FileNotFoundError(f"no *_{split}.csv files in {src / split}")
        for file in files:
            write_if_changed(root / "mmlu" / split / file.name, _mmlu_to_hendrycks_csv(file))


def _layout_gsm8k(src: Path, root: Path) -> None:
    for split in ("train", "test"):
        link(src / f"{split}.jsonl", root / "gsm8k" / f"{split}.jsonl")


def _layout_ifeval(src: Path, root: Path) -> None:
    link(src / "input_data.jsonl", root / "ifeval" / "input_data.jsonl")


def _layout_bbh(src: Path, root: Path) -> None:
    for file in sorted(src.glob("*.json")):
        link(file, root / "BBH" / "data" / file.name)


def _layout_humaneval(src: Path, root: Path) -> None:
    with gzip.open(require(src / "HumanEval.jsonl.gz"), "rt", encoding="utf-8") as f:
        write_if_changed(root / "humaneval" / "human-eval-v2-20210705.jsonl", f.read())


# knowledge benchmark -> how its shared/data folder becomes OpenCompass's ``data/...`` layout: one entry per
# benchmark (a new one adds its function here beside its ``OBJECTIVE_BENCHMARKS`` entry)
DATA_LAYOUTS: dict[str, Callable[[Path, Path], None]] = {
    "arc_c": _layout_arc_c, "mmlu": _layout_mmlu, "gsm8k": _layout_gsm8k, "ifeval": _layout_ifeval,
    "bbh": _layout_bbh, "humaneval": _layout_humaneval,
}


def prepare_compass_data(data_dir: Path, cache_dir: Path, benchmarks: Sequence[str]) -> Path:
    """Lay out ``<cache_dir>/data/...`` as OpenCompass's loaders expect, for the given benchmarks; returns cache_dir.

    Paths follow ``opencompass/utils/datasets_info.py`` (``local`` entries):
    ``data/ARC/ARC-c/ARC-Challenge-Test.jsonl``, ``data/mmlu/{dev,test}/<subject>_<split>.csv``,
    ``data/gsm8k/{train,test}.jsonl``, ``data/ifeval/input_data.jsonl``,
    ``data/BBH/data/<task>.json``, ``data/humaneval/human-eval-v2-20210705.jsonl``. Files already in OpenCompass's
    format are symlinked; ARC and MMLU are converted (see the helpers); HumanEval is decompressed.
    """
    data_dir = Path(data_dir)
    root = Path(cache_dir) / "data"
    for key in check_benchmarks(benchmarks):
        DATA_LAYOUTS[key](require(data_dir / BENCHMARKS[key].shared_subdir), root)
    return Path(cache_dir)

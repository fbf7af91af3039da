"""The likelihood channel's data: the texts whose likelihood the evaluated model is asked for, under its chat
template, laid out as OpenCompass JSONL datasets (``$COMPASS_DATA_CACHE/data/infosift_likelihood/<abbr>.jsonl``).

Every row is one scored continuation: the conversation before it rendered with the evaluated model's chat template
(``add_generation_prompt=True``, exactly the prompt the model answers in generation; OpenCompass's
``HuggingFacewithChatTemplate.generate`` renders it the same way), then the continuation as the assistant's answer.
Fields: ``text`` (prompt + continuation), ``label`` (``[[start, end, 1]]``, the continuation's character span in
``text``: the span whose tokens ``InferencePPLOnlyInferencer`` scores), ``question``, ``cluster``, ``choice`` /
``gold`` (cloze rows), ``n_chars`` / ``n_bytes`` (the continuation's characters and UTF-8 bytes).

* ``ref_bpb_alpaca``: the AlpacaEval instruction as the user turn, gpt-4-1106-preview's AlpacaEval 2.0 output
  (``alpaca_eval_v2/gpt4_1106_preview_model_outputs.json``, the strongest reference staged for all 805
  instructions; the v1 references in ``alpaca_eval/`` are text-davinci-003's) as the answer.
* ``ref_bpb_mtbench``: FastChat's GPT-4 reference answers (``mt_bench/reference_answer_gpt-4.jsonl``; 30 math,
  reasoning and coding questions). Turn 1: question 1 -> reference 1; turn 2: question 1, reference 1, question 2
  -> reference 2 (the reference dialogue as history). The turns of a dialogue share a cluster.
* ``arc_c_cloze`` / ``mmlu_cloze``: OLMES's cloze ("RC") formulation (Gu et al., OLMES, 2024) moved into the
  chat template: the user turn is ``Question: <question>\\nAnswer:`` without the options, each choice's text is a
  candidate answer (one row per choice; the choices of a question share its prompt and sit next to each other).

Sample limits are applied here, when the rows are written: ARC the first N questions (OpenCompass's ``ARC-c``
order, so ``arc_c`` and ``arc_c_cloze`` with the same limit ask the same questions), MMLU the first N of every
subject (as the generative ``mmlu``), AlpacaEval and MT-Bench N questions spread over their categories
(``preference_data.spread_sample``: the same instructions ``alpacaeval_v2`` asks at the same limit).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from selection_ops.evaluation.benchmarks import LIKELIHOOD_BENCHMARKS, check_benchmarks
from selection_ops.evaluation.compass_data import arc_questions, read_mmlu_rows, require, write_if_changed
from selection_ops.evaluation.preference_data import read_json, read_jsonl, spread_sample

LIKELIHOOD_DATA_DIR = "infosift_likelihood"  # under $COMPASS_DATA_CACHE/data/
# the cloze prompt of OLMES (Gu et al. 2024), as the user turn
CLOZE_PROMPT = "Question: {question}\nAnswer:"

RenderPrompt = Callable[[Sequence[dict[str, str]]], str]


@dataclass(frozen=True)
class ScoredText:
    """One continuation to score: ``messages`` (user / assistant turns before it) and the ``continuation`` the
    assistant's turn is scored on; ``choice`` / ``gold`` for a cloze question's choices."""

    question: str
    messages: tuple[dict[str, str], ...]
    continuation: str
    cluster: str | None = None
    choice: int | None = None
    gold: bool | None = None


def dataset_path(cache_dir: Path, abbr: str) -> Path:
    """Where the rows of OpenCompass dataset ``abbr`` live (``eval_configs/likelihood.py`` reads the same path)."""
    return Path(cache_dir) / "data" / LIKELIHOOD_DATA_DIR / f"{abbr}.jsonl"


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{where}: expected a non-empty string, got {value!r}")
    return value


def truncate_answer(text: str, max_chars: int | None) -> str:
    """The first ``max_chars`` characters of a reference answer, cut at the last whitespace before the limit (a hard
    cut when there is none); the whole answer when ``max_chars`` is None or the answer is shorter. Bits per byte of
    such a prefix is still the model's code length for the strong answer's opening, at a cost a CPU can pay:
    gpt-4-1106-preview's AlpacaEval answers average about 2,000 characters (2.4 s each with SmolLM2 on 2 cores)."""
    if max_chars is None or len(text) <= max_chars:
        return text
    if max_chars < 1:
        raise ValueError(f"reference answer prefix of {max_chars} characters")
    cut = text.rfind(" ", 0, max_chars + 1)
    return text[:cut] if cut > 0 else text[:max_chars]


def alpaca_rows(data_dir: Path, limit: int | None, answer_chars: int | None = None) -> list[ScoredText]:
    """AlpacaEval instructions with gpt-4-1106-preview's outputs (same order in both files, checked); each output
    cut to ``answer_chars`` (``truncate_answer``)."""
    questions_path = data_dir / "alpaca_eval" / "alpaca_eval.json"
    reference_path = data_dir / "alpaca_eval_v2" / "gpt4_1106_preview_model_outputs.json"
    questions, references = read_json(questions_path), read_json(reference_path)
    if len(questions) != len(references):
        raise ValueError(f"{questions_path} has {len(questions)} items but {reference_path} {len(references)}")
    rows = []
    for i in spread_sample(questions, lambda q: str(q.get("dataset")), limit):
        instruction = _text(questions[i].get("instruction"), f"{questions_path} item {i}, field 'instruction'")
        if references[i].get("instruction") != instruction:
            raise ValueError(f"{reference_path} item {i}: field 'instruction' differs from {questions_path}")
        output = _text(references[i].get("output"), f"{reference_path} item {i}, field 'output'")
        rows.append(ScoredText(f"alpaca_eval/{i}", ({"role": "user", "content": instruction},),
                               truncate_answer(output, answer_chars)))
    return rows


def mtbench_rows(data_dir: Path, limit: int | None, answer_chars: int | None = None) -> dict[str, list[ScoredText]]:
    """GPT-4's reference dialogues: ``{"ref_bpb_mtbench_turn1": [...], "ref_bpb_mtbench_turn2": [...]}``; the scored
    answer of each turn cut to ``answer_chars`` (the history keeps GPT-4's whole first answer)."""
    questions_path = data_dir / "mt_bench" / "question.jsonl"
    references_path = data_dir / "mt_bench" / "reference_answer_gpt-4.jsonl"
    references = {}
    for line_no, row in enumerate(read_jsonl(references_path), start=1):
        try:
            references[row["question_id"]] = list(row["choices"][0]["turns"])
        except (KeyError, IndexError, TypeError):
            raise ValueError(f"{references_path}:{line_no}: missing field 'question_id' or "
                             "'choices[0].turns'") from None
    questions = [q for q in read_jsonl(questions_path) if q.get("question_id") in references]
    turns: dict[str, list[ScoredText]] = {"ref_bpb_mtbench_turn1": [], "ref_bpb_mtbench_turn2": []}
    for i in spread_sample(questions, lambda q: str(q.get("category")), limit):
        qid = questions[i]["question_id"]
        asked = questions[i].get("turns")
        answers = references[qid]
        if not isinstance(asked, list) or len(asked) != 2 or len(answers) != 2:
            raise ValueError(f"{questions_path} / {references_path}: question {qid} needs two turns and two "
                             f"reference answers, got {len(asked or [])} and {len(answers)}")
        where = f"{references_path} question {qid}"
        history: tuple[dict[str, str], ...] = ()
        for turn, (question, answer) in enumerate(zip(asked, answers, strict=True), start=1):
            history += ({"role": "user", "content": _text(question, f"{questions_path} question {qid} turn {turn}")},)
            answer = _text(answer, f"{where} turn {turn}")
            turns[f"ref_bpb_mtbench_turn{turn}"].append(
                ScoredText(f"mt_bench/{qid}/turn{turn}", history, truncate_answer(answer, answer_chars),
                           cluster=f"mt_bench/{qid}"))
            history += ({"role": "assistant", "content": answer},)
    return turns


def _cloze_rows(question_id: str, question: str, choices: Sequence[str], gold: int, where: str,
                cluster: str | None = None) -> list[ScoredText]:
    messages = ({"role": "user", "content": CLOZE_PROMPT.format(question=question)},)
    return [ScoredText(question_id, messages, _text(choice, f"{where} choice {c}"), cluster, c, c == gold)
            for c, choice in enumerate(choices)]


def arc_rows(data_dir: Path, limit: int | None) -> list[ScoredText]:
    """ARC-Challenge test questions in OpenCompass's ``ARC-c`` order, one row per choice."""
    source = data_dir / "arc_challenge" / "ARC-Challenge-test.jsonl"
    rows = []
    for i, q in enumerate(arc_questions(source)[:limit]):
        rows += _cloze_rows(f"ARC-c/{i}", q["question"], q["choices"], q["gold"], f"{source} question {q['id']}")
    return rows


def mmlu_rows(data_dir: Path, limit: int | None) -> list[ScoredText]:
    """MMLU test questions, the first ``limit`` of every subject; ids as the generative MMLU's
    (``lukaemon_mmlu_<subject>/<index>``), the subject as cluster."""
    folder = require(data_dir / "mmlu" / "test")
    files = sorted(folder.glob("*_test.csv"))
    if not files:
        raise FileNotFoundError(f"no *_test.csv files in {folder}")
    rows = []
    for file in files:
        subject = file.name[: -len("_test.csv")]
        for i, row in enumerate(read_mmlu_rows(file)[:limit]):
            rows += _cloze_rows(f"lukaemon_mmlu_{subject}/{i}", row[0], row[1:5], int(row[5]), f"{file}:{i + 2}",
                                cluster=subject)
    return rows


def render_row(row: ScoredText, render_prompt: RenderPrompt) -> dict:
    """The JSONL row OpenCompass reads: ``text`` = rendered prompt + continuation and the continuation's span."""
    prompt = render_prompt(row.messages)
    text = prompt + row.continuation
    return {"text": text, "label": [[len(prompt), len(text), 1]], "question": row.question, "cluster": row.cluster,
            "choice": row.choice, "gold": row.gold, "n_chars": len(row.continuation),
            "n_bytes": len(row.continuation.encode("utf-8"))}


def likelihood_rows(data_dir: Path, key: str, limit: int | None,
                    answer_chars: int | None = None) -> dict[str, list[ScoredText]]:
    """``{OpenCompass dataset abbr: rows}`` of one likelihood dataset key (``answer_chars``: reference answers cut to
    that prefix; cloze choices are never cut)."""
    data_dir = Path(data_dir)
    if key == "ref_bpb_alpaca":
        return {"ref_bpb_alpaca": alpaca_rows(data_dir, limit, answer_chars)}
    if key == "ref_bpb_mtbench":
        return mtbench_rows(data_dir, limit, answer_chars)
    if key == "arc_c_cloze":
        return {"arc_c_cloze": arc_rows(data_dir, limit)}
    if key == "mmlu_cloze":
        return {"mmlu_cloze": mmlu_rows(data_dir, limit)}
    raise ValueError(f"no data builder for likelihood key {key!r}")


def chat_prompt_renderer(model_path: str | Path, trust_remote_code: bool = False) -> RenderPrompt:
    """``messages -> prompt`` with the chat template of the tokenizer OpenCompass loads for ``model_path`` (a LoRA
    folder: its base model's, as ``config.resolve_model``), generation prompt appended."""
    from transformers import AutoTokenizer

    from selection_ops.evaluation.config import resolve_model

    tokenizer = AutoTokenizer.from_pretrained(resolve_model(model_path)[0], trust_remote_code=trust_remote_code)
    if not tokenizer.chat_template:
        raise ValueError(f"{model_path}: the tokenizer has no chat template; the likelihood channel scores answers "
                         "under the model's chat template")

    def render(messages: Sequence[dict[str, str]]) -> str:
        return tokenizer.apply_chat_template(list(messages), add_generation_prompt=True, tokenize=False)

    return render


def prepare_likelihood_data(data_dir: Path, cache_dir: Path, keys: Sequence[str], limits: dict[str, int | None],
                            render_prompt: RenderPrompt, answer_chars: int | None = None) -> dict[str, list[str]]:
    """Write ``<cache_dir>/data/infosift_likelihood/<abbr>.jsonl`` for the likelihood dataset ``keys`` (``limits``:
    key -> sample limit, None = all; ``answer_chars``: reference answers cut to that prefix, None = whole).
    Returns ``{key: OpenCompass dataset abbrs written}``."""
    written: dict[str, list[str]] = {}
    for key in check_benchmarks(keys, LIKELIHOOD_BENCHMARKS):
        for folder in LIKELIHOOD_BENCHMARKS[key].shared_subdirs:
            require(Path(data_dir) / folder)
        written[key] = []
        for abbr, rows in likelihood_rows(data_dir, key, limits.get(key), answer_chars).items():
            if not rows:
                raise ValueError(f"likelihood dataset {abbr!r} ({key}) has no rows")
            lines = [json.dumps(render_row(row, render_prompt), ensure_ascii=False) for row in rows]
            write_if_changed(dataset_path(cache_dir, abbr), "\n".join(lines) + "\n")
            written[key].append(abbr)
    return written

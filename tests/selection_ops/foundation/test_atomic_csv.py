"""``atomic_open`` with ``newline=""`` for the csv module, and the previous file kept when writing fails."""

import csv

import pytest

from selection_ops.foundation.atomic import atomic_open


def test_csv_rows_are_written_whole_and_without_blank_lines(tmp_path):
    path = tmp_path / "edges.csv"
    with atomic_open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([["source", "target"], ["a, b", "c"]])
    assert path.read_bytes() == b'source,target\r\n"a, b",c\r\n'
    with pytest.raises(RuntimeError), atomic_open(path, "w", newline="") as handle:
        handle.write("partial")
        raise RuntimeError("interrupted")
    assert path.read_bytes() == b'source,target\r\n"a, b",c\r\n'
    assert [p.name for p in tmp_path.iterdir()] == ["edges.csv"]

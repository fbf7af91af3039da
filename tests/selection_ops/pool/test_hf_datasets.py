"""Hugging Face ``datasets`` sources: packaged builder with data_files, a local data folder, a save_to_disk folder,
and the Hub-id code path (there is no Hub here, so ``load_dataset`` is replaced by a local stand-in)."""

from __future__ import annotations

import json

import datasets
import pytest

from selection_ops.pool import PoolSource, PoolSpec, RecordError, load_pool

ROWS = [{"instruction": "Hi", "context": "", "response": "Hello!", "category": "open_qa"},
        {"instruction": "Add", "context": "2 and 3", "response": "5", "category": "closed_qa"}]
EXPECTED = [[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}],
            [{"role": "user", "content": "Add\n2 and 3"}, {"role": "assistant", "content": "5"}]]
DOLLY_RENAME = {"context": "input", "response": "output"}


@pytest.fixture(autouse=True)
def _private_hf_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf_cache")


def _conversations(source: PoolSource) -> list:
    return load_pool(PoolSpec((source,)))["conversation"].tolist()


def test_packaged_json_builder_with_data_files(tmp_path):
    path = tmp_path / "dolly.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    source = PoolSource(hf_id="json", hf_data_files=(str(path),), format="alpaca", rename=DOLLY_RENAME, name="dolly")
    assert _conversations(source) == EXPECTED


def test_local_dataset_folder(tmp_path):
    folder = tmp_path / "my_dataset"
    folder.mkdir()
    (folder / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    assert _conversations(PoolSource(hf_id=str(folder), rename=DOLLY_RENAME)) == EXPECTED


def test_save_to_disk_folders(tmp_path):
    dataset = datasets.Dataset.from_list(ROWS)
    dataset.save_to_disk(str(tmp_path / "flat"))
    datasets.DatasetDict({"train": dataset, "test": dataset.select([1])}).save_to_disk(str(tmp_path / "dict"))
    assert _conversations(PoolSource(hf_id=str(tmp_path / "flat"), rename=DOLLY_RENAME)) == EXPECTED
    assert _conversations(PoolSource(hf_id=str(tmp_path / "dict"), hf_split="test",
                                     rename=DOLLY_RENAME)) == EXPECTED[1:]
    with pytest.raises(ValueError, match=r"no split 'validation'; splits: \['test', 'train'\]"):
        _conversations(PoolSource(hf_id=str(tmp_path / "dict"), hf_split="validation"))


def test_hub_id_path_calls_load_dataset(monkeypatch):
    calls = []

    def fake_load_dataset(path, name=None, split=None, data_files=None):
        calls.append((path, name, split, data_files))
        return datasets.Dataset.from_list([{"conversations": ["Hi", "Hello!"], "source": "stackexchange"}])

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    frame = load_pool(PoolSpec((PoolSource(hf_id="GAIR/lima", name="lima"),)))
    assert calls == [("GAIR/lima", None, "train", None)]
    assert frame["conversation"].tolist() == [EXPECTED[0]] and frame["source"].tolist() == ["lima"]


def test_hub_failure_names_the_dataset(monkeypatch):
    def offline(*args, **kwargs):
        raise ConnectionError("Couldn't reach 'tatsu-lab/alpaca' on the Hub (LocalEntryNotFoundError)")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(ValueError, match=r"could not load Hugging Face dataset 'tatsu-lab/alpaca' \(split 'train'\)"):
        load_pool(PoolSpec((PoolSource(hf_id="tatsu-lab/alpaca"),)))


def test_malformed_hf_row_is_named(tmp_path):
    dataset = datasets.Dataset.from_list([{"instruction": "Hi", "output": "Hello!"}, {"instruction": "Hi",
                                                                                       "output": None}])
    dataset.save_to_disk(str(tmp_path / "bad"))
    with pytest.raises(RecordError, match=r"bad\[train\]: row 1: field 'output' must be a string, got null"):
        _conversations(PoolSource(hf_id=str(tmp_path / "bad")))


def test_real_hub_call_offline_fails_with_the_dataset_named(tmp_path):
    """The unpatched Hub path, run in offline mode: it goes as far as asking the Hub and reports which dataset."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    code = ("from selection_ops.pool import PoolSource, PoolSpec, load_pool\n"
            "try:\n    load_pool(PoolSpec((PoolSource(hf_id='tatsu-lab/alpaca'),)))\n"
            "except ValueError as error:\n    print(error)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                          check=False)
    assert done.stdout.startswith("could not load Hugging Face dataset 'tatsu-lab/alpaca' (split 'train')"), (
        done.stdout + done.stderr)


SCRIPT = '''
import datasets


class TinyPool(datasets.GeneratorBasedBuilder):
    def _info(self):
        features = datasets.Features({"conversations": datasets.Sequence(datasets.Value("string"))})
        return datasets.DatasetInfo(features=features)

    def _split_generators(self, dl_manager):
        return [datasets.SplitGenerator(name=datasets.Split.TRAIN)]

    def _generate_examples(self):
        yield 0, {"conversations": ["Hi", "Hello!"]}
        yield 1, {"conversations": ["Add\\n2 and 3", "5"]}
'''


def test_local_loading_script(tmp_path):
    if int(datasets.__version__.split(".")[0]) >= 4:
        pytest.skip("datasets >= 4 no longer runs loading scripts")
    script = tmp_path / "tiny_pool" / "tiny_pool.py"
    script.parent.mkdir()
    script.write_text(SCRIPT, encoding="utf-8")
    source = PoolSource(hf_id=str(script), hf_trust_remote_code=True, name="tiny")
    assert _conversations(source) == EXPECTED


def test_an_empty_saved_dataset_is_an_error_naming_it(tmp_path):
    folder = tmp_path / "empty_ds"
    datasets.Dataset.from_dict({"instruction": [], "output": []}).save_to_disk(str(folder))
    with pytest.raises(RecordError) as info:
        load_pool(PoolSpec((PoolSource(hf_id=str(folder)),)))
    assert str(info.value) == f"{folder}[train]: holds no records; a pool source needs at least one record"

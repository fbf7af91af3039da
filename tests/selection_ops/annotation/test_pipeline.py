"""The offline pipeline on real records: shapes, ranges, determinism, resumption, per-annotator invalidation."""

import numpy as np
import pandas as pd
import pytest

from selection_ops.annotation import AnnotationConfig, ScorerConfig, TaggerConfig, annotate
from selection_ops.annotation.embedders import EmbeddingAnnotator
from selection_ops.annotation.offline_tagger import KeyphraseTagger
from selection_ops.annotation.pipeline import TAG_MAPPING_FILE
from selection_ops.annotation.text import RecordError


@pytest.fixture(scope="module")
def annotated(real_pool, tmp_path_factory):
    store = tmp_path_factory.mktemp("store")
    return annotate(real_pool, AnnotationConfig(shard_size=16, show_progress=False), store), store


def test_columns_shapes_and_ranges(annotated, real_pool):
    out, store = annotated
    assert out["id"].tolist() == real_pool["id"].tolist()
    for column in ("id", "labels", "score", "raw_tags", "quality_handcrafted", "quality_mtld", "embedding"):
        assert column in out.columns
    assert out["score"].between(0, 1).all()
    assert np.array_equal(out["score"].to_numpy(), out["quality_handcrafted"].to_numpy())
    assert all(1 <= len(labels) <= 5 for labels in out["labels"])
    assert all(1 <= len(tags) <= 5 for tags in out["raw_tags"])
    embeddings = np.stack(out["embedding"].tolist())
    assert embeddings.shape == (50, 384) and embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)
    assert (store / TAG_MAPPING_FILE).exists()
    # multi-turn LIMA records count every response's words
    assert (out["quality_response_words"] > 0).all()


def test_same_records_same_annotations_in_a_fresh_store(annotated, real_pool, tmp_path):
    out, _ = annotated
    part = real_pool.iloc[[3, 21, 40]].reset_index(drop=True)
    again = annotate(part, AnnotationConfig(shard_size=2, show_progress=False), tmp_path)
    reference = out.set_index("id").loc[part["id"]]
    assert again["raw_tags"].tolist() == reference["raw_tags"].tolist()
    np.testing.assert_array_equal(again["score"].to_numpy(), reference["score"].to_numpy())
    np.testing.assert_allclose(np.stack(again["embedding"]), np.stack(reference["embedding"]), atol=1e-5)


class Counter:
    """Wraps an ``annotate`` method: counts calls and samples, optionally raises on the n-th call."""

    def __init__(self, original, fail_on_call: int | None = None):
        self.original, self.fail_on_call, self.calls, self.samples = original, fail_on_call, 0, 0

    def __call__(self, annotator, samples):
        self.calls += 1
        if self.fail_on_call is not None and self.calls == self.fail_on_call:
            raise RuntimeError("simulated crash")
        self.samples += len(samples)
        return self.original(annotator, samples)

    def method(self):
        return lambda annotator, samples: self(annotator, samples)


def test_killed_run_resumes_without_recomputing(real_pool, tmp_path, monkeypatch):
    pool = real_pool.iloc[:12].reset_index(drop=True)
    config = AnnotationConfig(shard_size=4, show_progress=False)
    reference = annotate(pool, config, tmp_path / "reference")

    crashing = Counter(KeyphraseTagger.annotate, fail_on_call=2)
    monkeypatch.setattr(KeyphraseTagger, "annotate", crashing.method())
    with pytest.raises(RuntimeError, match="simulated crash"):
        annotate(pool, config, tmp_path / "run")
    assert crashing.samples == 4  # one shard of four finished before the crash

    tagger_calls = Counter(KeyphraseTagger.annotate)
    embed_calls = Counter(EmbeddingAnnotator.annotate)
    monkeypatch.setattr(KeyphraseTagger, "annotate", tagger_calls.method())
    monkeypatch.setattr(EmbeddingAnnotator, "annotate", embed_calls.method())
    resumed = annotate(pool, config, tmp_path / "run")
    assert (tagger_calls.calls, tagger_calls.samples) == (2, 8)  # only the two missing shards
    assert embed_calls.calls == 0  # all embeddings were stored before the tagger crashed
    pd.testing.assert_frame_equal(resumed.drop(columns="embedding"), reference.drop(columns="embedding"))
    np.testing.assert_allclose(np.stack(resumed["embedding"]), np.stack(reference["embedding"]), atol=1e-6)

    # a changed tagger setting invalidates the tagger's shards only
    changed = AnnotationConfig(shard_size=4, show_progress=False, tagger=TaggerConfig(max_tags=2))
    annotate(pool, changed, tmp_path / "run")
    assert tagger_calls.samples == 8 + 12 and embed_calls.calls == 0
    # and a changed sample content is recomputed, alone
    edited = pool.copy()
    edited.at[0, "conversation"] = [{"role": "user", "content": "Name a prime number."},
                                    {"role": "assistant", "content": "Seven."}]
    annotate(edited, changed, tmp_path / "run")
    assert embed_calls.samples == 1 and tagger_calls.samples == 8 + 12 + 1


def test_pool_errors_name_the_record(tmp_path):
    pool = pd.DataFrame({"id": ["x1", "x2"], "conversation": [[{"role": "user", "content": "q"}], []],
                         "source": ["s", "s"]})
    with pytest.raises(RecordError, match="record 'x2': field 'conversation' is empty"):
        annotate(pool, AnnotationConfig(show_progress=False), tmp_path)
    with pytest.raises(RecordError, match="id 'x1' appears more than once"):
        annotate(pd.concat([pool.iloc[:1]] * 2), AnnotationConfig(show_progress=False), tmp_path)


def test_config_validation():
    with pytest.raises(ValueError, match="tagger.kind"):
        AnnotationConfig(tagger={"kind": "nope"})
    with pytest.raises(ValueError, match="needs reward_model"):
        AnnotationConfig(scorer=ScorerConfig(kind="reward"))
    with pytest.raises(ValueError, match="unknown scorer"):
        ScorerConfig(extra_scorers=["ifd", "nope"])
    with pytest.raises(ValueError, match="extra"):
        AnnotationConfig(scorer_model="flat names are gone")
    help_text = AnnotationConfig.help()
    assert "embedder" in help_text and "NovelSum" in help_text["embedder.kind"]


def test_knn_density_column(annotated, real_pool, tmp_path):
    from selection_ops.data_model import normalize_rows
    from selection_ops.neighbors import knn_density

    out, store = annotated
    with_density = annotate(real_pool, AnnotationConfig(shard_size=16, show_progress=False, knn_k=3), store)
    embeddings = normalize_rows(np.stack(out["embedding"]))
    # NovelSum's sigma^beta by hand for row 0: mean squared L2 to its 3 nearest other rows, to the power -0.5
    squared = ((embeddings - embeddings[0]) ** 2).sum(axis=1)
    expected = (np.sort(squared)[1:4].mean() + 1e-9) ** -0.5
    assert with_density["knn_density"].iloc[0] == pytest.approx(expected, rel=1e-4)
    np.testing.assert_allclose(with_density["knn_density"], knn_density(embeddings, k=3))

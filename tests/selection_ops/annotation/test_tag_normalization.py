import json

import numpy as np

from selection_ops.annotation.tag_normalization import clean_tag, normalize_tags


class LookupEmbedder:
    """Fixed vectors by tag, so the DBSCAN merge is checked against hand-placed points."""

    def __init__(self, vectors: dict[str, list[float]]) -> None:
        self.vectors = vectors

    def encode(self, texts):
        return np.array([self.vectors[t] for t in texts], dtype=np.float32)

    def settings(self):
        return {"kind": "lookup"}


def test_clean_tag():
    assert clean_tag("Python-Programming!") == "python programming"
    assert clean_tag("  Creative   Writing ") == "creative writing"
    assert clean_tag("C++ / Data_Structures") == "c++ data structure"
    assert clean_tag("Poems.") == "poem"
    assert clean_tag("???") == ""


def test_frequency_filter_lowercase_and_lemmatise_without_merge():
    raw = [["Poems", "math"], ["poem", "Math!"], ["rare-tag", "poem"]]
    result = normalize_tags(raw, embedder=None, min_frequency=2)
    assert result.labels == [["poem", "math"], ["poem", "math"], ["poem"]]
    assert result.mapping == {"Poems": "poem", "poem": "poem", "math": "math", "Math!": "math", "rare-tag": None}


def test_dbscan_merge_at_cosine_eps():
    def angle(deg: float) -> list[float]:
        return [float(np.cos(np.radians(deg))), float(np.sin(np.radians(deg)))]

    # cosine distance 1 - cos(10 deg) = 0.0152 < 0.05: merged; 1 - cos(40 deg) = 0.234: kept apart
    embedder = LookupEmbedder({"coding": angle(0), "programming": angle(10), "cooking": angle(50)})
    raw = [["coding"], ["programming", "cooking"], ["programming"]]
    result = normalize_tags(raw, embedder=embedder, merge_eps=0.05)
    assert result.mapping == {"coding": "programming", "programming": "programming", "cooking": "cooking"}
    assert result.labels == [["programming"], ["programming", "cooking"], ["programming"]]


def test_vocabulary_mapping(tmp_path):
    embedder = LookupEmbedder({"math": [1.0, 0.0], "knitting": [0.0, 1.0], "mathematics": [0.99, 0.1],
                               "information retrieval": [0.6, 0.8]})
    vocabulary = ["mathematics", "information retrieval"]
    raw = [["Information-Retrieval", "maths"], ["knitting"]]  # "maths" cleans to "math"
    result = normalize_tags(raw, embedder=embedder, vocabulary=vocabulary, vocabulary_max_distance=0.05)
    assert result.mapping == {"Information-Retrieval": "information retrieval", "maths": "mathematics",
                              "knitting": None}
    assert result.labels == [["information retrieval", "mathematics"], []]
    result.write_mapping(tmp_path / "m.json")
    assert json.loads((tmp_path / "m.json").read_text())["knitting"] is None


def test_real_mig_vocabulary_maps_its_own_tags(data_dir):
    vocabulary = json.loads((data_dir / "mig" / "valid_tag_path.json").read_text())
    assert len(vocabulary) == 4531
    sample = vocabulary[:50]
    result = normalize_tags([[t.upper()] for t in sample], embedder=None, vocabulary=vocabulary)
    assert [labels for labels in result.labels] == [[t] for t in sample]

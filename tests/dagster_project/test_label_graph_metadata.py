"""The label-graph asset reports how connected its graph is: isolated fraction, degrees and a degree plot."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest


def test_label_graph_metadata_has_isolated_fraction_and_degree_plot(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster import asset, materialize

    from assets.label_graph import build_label_graph_assets
    from resources.label_graph import LabelGraphResource
    from resources.study_layout import StudyLayout

    monkeypatch.setenv("INFOSIFT_HOME", str(tmp_path))

    @asset
    def annotations() -> pd.DataFrame:
        return pd.DataFrame({"id": ["a", "b", "c"], "labels": [["guitar", "instrument"], ["portuguese"],
                                                                ["spanish", "prime number"]]})

    result = materialize([annotations, *build_label_graph_assets()],
                         resources={"layout": StudyLayout(study="graph", home=str(tmp_path)),
                                    "label_graph_settings": LabelGraphResource()})
    assert result.success
    metadata = result.asset_materializations_for_node("label_graph")[0].metadata
    # default MiniLM threshold: guitar-instrument and portuguese-spanish are edges, prime number is isolated
    assert metadata["n_edges"].value == 2
    assert metadata["isolated_fraction"].value == pytest.approx(1 / 5)
    assert metadata["max_degree"].value == 1
    assert metadata["degree_distribution"].value.startswith("![label degree distribution](data:image/png;base64,")

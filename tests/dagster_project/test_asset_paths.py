"""Every model, selection, evaluation and report asset shows where its output really is (``path``, the folder or
file a user opens, loads or uploads) with its size, never the IO manager's pickle; on a real Dagster instance
through the main job, the trainer and evaluators faked at the resource seam; and the report's page holds its tables
and inline plots."""

from __future__ import annotations

import json
from pathlib import Path

from dagster import AssetKey
from studykit import GRID, Study

from assets.locations import size_bytes


def _latest(instance, key: AssetKey) -> dict:
    event = instance.get_latest_materialization_event(key)
    assert event is not None, key
    return event.asset_materialization.metadata


def _located(metadata: dict) -> Path:
    path = Path(metadata["path"].path)
    assert path.exists(), path
    assert metadata["size_bytes"].value == size_bytes(path) > 0
    assert metadata["size"].value.endswith("B")
    return path


def test_assets_show_their_real_folder_or_file_with_its_size(home: Path) -> None:
    model = home / "models" / "tiny-base"  # a local base model folder (the fakes never read its weights)
    model.mkdir(parents=True)
    (model / "config.json").write_text(json.dumps({"model_type": "llama"}))
    study = Study(home, body=GRID.format(study="alpha", unique=2).replace("/fake/base-model", str(model)))
    study.run()
    values = study.layout.values_dir()
    with study.instance() as instance:
        base = _latest(instance, AssetKey(["tiny", "base_model"]))
        assert _located(base) == model and (model / "config.json").is_file()
        assert str(model) in base["load_with"].value and base["weights"].value.startswith("full weights")

        tuned = _located(_latest(instance, AssetKey(["tiny", "fine_tuned_model"])))
        assert tuned.is_dir() and tuned.parent.parent == study.layout.root / "models" / "fine_tuned"
        assert (tuned / "records.json").is_file()  # the folder the (fake) trainer wrote

        selection = _located(_latest(instance, AssetKey("selection")))
        assert selection.suffix == ".jsonl" and selection.parent.parent == study.layout.root / "selections"

        for stage in ("benchmark_scores", "preference_scores", "baseline_scores"):
            evaluation = _located(_latest(instance, AssetKey(["tiny", stage])))
            assert (study.layout.root / "evaluations") in evaluation.parents, (stage, evaluation)

        report = _latest(instance, AssetKey("diversity_correlation"))
        assert _located(report) == study.layout.report_dir()
        for metadata in (base, report):
            assert values not in Path(metadata["path"].path).parents  # never the IO manager's pickle

        # the report's page: scores with intervals as a table, correlations and verdicts with n, plots inline
        scores = report["scores"].value
        runs = {record.data["run"] for record in scores.records}
        assert "baseline__tiny" in runs and len(runs) == 1 + len(study.grid.default_training_keys())
        names = [column.name for column in scores.schema.columns]
        assert {"avg_obj", "avg_obj_low", "avg_obj_high", "arc_c", "arc_c ±", "arc_c n"} <= set(names)
        row = next(r.data for r in scores.records if r.data["run"] == "baseline__tiny")
        assert row["avg_obj_low"] <= row["avg_obj"] <= row["avg_obj_high"]
        correlations = report["correlations_table"].value
        assert {"metric", "n", "pearson", "pearson_low", "pearson_high"} <= {c.name for c in
                                                                             correlations.schema.columns}
        verdicts = report["verdicts_table"].value
        assert verdicts.records and all(r.data["n"] and r.data["verdict"] for r in verdicts.records)
        plots = report["plots"].value
        assert plots.count("data:image/png;base64,") == plots.count("/artifacts/plots/") // 2 >= 2
        assert report["cells_unscored"].value == report["cells"].value - report["cells_scored"].value
        assert report["cells"].value == 6 and report["cells_scored"].value == 4  # the grid trains 2 of 3 variants
        assert "2 not yet trained and evaluated" in report["coverage"].value

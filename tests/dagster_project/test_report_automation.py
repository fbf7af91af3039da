"""The report follows a partly trained grid: its automation condition requests it when some cells' scores change
and not otherwise, on a real Dagster instance (scores recorded as materializations of their partitions), and the
sensor that evaluates it runs by default and names the study."""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster import (
    AssetKey,
    AssetMaterialization,
    AssetSelection,
    DefaultSensorStatus,
    evaluate_automation_conditions,
)
from studykit import Study

REPORT = AssetKey("diversity_correlation")


@pytest.fixture()
def study(tmp_path: Path) -> Study:
    home = tmp_path / "home"
    home.mkdir()
    return Study(home)


def _tick(defs, instance, cursor=None):
    return evaluate_automation_conditions(defs, instance, asset_selection=AssetSelection.assets(REPORT),
                                          cursor=cursor)


def _score(instance, study: Study, partitions: list[str]) -> None:
    from assets.evaluation import benchmark_scores_key

    for key in partitions:
        instance.report_runless_asset_event(AssetMaterialization(benchmark_scores_key("tiny"), partition=key))


def test_a_partly_trained_grid_gets_a_report_and_an_unchanged_one_does_not(study: Study) -> None:
    from assets.partitions import grid_partitions
    from assets.reporting import unscored_cells

    defs = study.definitions()
    keys = grid_partitions(study.grid).get_partition_keys()
    assert len(keys) == 6
    with study.instance() as instance:
        first = _tick(defs, instance)
        assert first.get_num_requested(REPORT) == 0  # nothing scored yet: nothing to report

        _score(instance, study, keys[:2])  # 2 of 6 cells scored, 4 untrained: eager() would wait for all 6
        second = _tick(defs, instance, first.cursor)
        assert second.get_num_requested(REPORT) == 1
        assert unscored_cells(instance, study.grid) == (6, [f"{k.split('|')[1]}__{k.split('|')[0]}__tiny"
                                                            for k in keys[2:]])

        instance.report_runless_asset_event(AssetMaterialization(REPORT))  # the requested report ran
        third = _tick(defs, instance, second.cursor)
        assert third.get_num_requested(REPORT) == 0  # nothing changed since

        _score(instance, study, [keys[0]])  # one cell's scores changed (re-evaluated)
        fourth = _tick(defs, instance, third.cursor)
        assert fourth.get_num_requested(REPORT) == 1


def test_eager_alone_would_never_report_a_partly_trained_grid(study: Study) -> None:
    """The control: Dagster's eager() on the same instance waits for every cell, so the condition above is needed."""
    from dagster import AssetSpec, AutomationCondition, asset

    from assets.evaluation import benchmark_scores_key
    from assets.partitions import grid_partitions

    partitions = grid_partitions(study.grid)
    scores = [AssetSpec(benchmark_scores_key("tiny"), partitions_def=partitions)]
    keys = partitions.get_partition_keys()

    @asset(deps=[benchmark_scores_key("tiny")], automation_condition=AutomationCondition.eager())
    def eager_report() -> None: ...

    with study.instance() as instance:
        first = evaluate_automation_conditions([*scores, eager_report], instance)
        _score(instance, study, keys[:2])
        second = evaluate_automation_conditions([*scores, eager_report], instance, cursor=first.cursor)
        assert second.get_num_requested(AssetKey("eager_report")) == 0


def test_the_report_sensor_runs_by_default_targets_the_report_and_names_the_study(study: Study) -> None:
    from dagster_project.jobs import REPORT_SENSOR

    defs = study.definitions()
    sensor = defs.resolve_sensor_def(REPORT_SENSOR)
    assert sensor.default_status == DefaultSensorStatus.RUNNING
    graph = defs.resolve_asset_graph()
    assert sensor.asset_selection.resolve(graph) == {REPORT}
    assert "'alpha'" in sensor.description and str(study.grid_path) in sensor.description
    # the training and evaluation assets stay with Dagster's default sensor, off unless a user turns it on
    default = defs.resolve_sensor_def("default_automation_condition_sensor")
    assert default.default_status == DefaultSensorStatus.STOPPED
    assert REPORT not in default.asset_selection.resolve(graph)


def test_serving_a_study_whose_report_is_up_to_date_requests_nothing(study: Study) -> None:
    """The sensor's first tick (a fresh `dagster dev`, no cursor) on scores already reported launches no run."""
    from assets.partitions import grid_partitions

    defs = study.definitions()
    with study.instance() as instance:
        _score(instance, study, grid_partitions(study.grid).get_partition_keys()[:2])
        instance.report_runless_asset_event(AssetMaterialization(REPORT))
        assert _tick(defs, instance).get_num_requested(REPORT) == 0

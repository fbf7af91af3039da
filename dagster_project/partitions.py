"""Partitions of the grid and the mappings between them (selection -> trained model <- base model)."""

from __future__ import annotations

from collections import defaultdict

from dagster import StaticPartitionMapping, StaticPartitionsDefinition

from dagster_project.grid import GridSpec, parse_training_key, selection_key


def selection_partitions(grid: GridSpec) -> StaticPartitionsDefinition:
    return StaticPartitionsDefinition(grid.selection_keys())


def base_model_partitions(grid: GridSpec) -> StaticPartitionsDefinition:
    return StaticPartitionsDefinition(list(grid.base_models))


def training_partitions(grid: GridSpec) -> StaticPartitionsDefinition:
    return StaticPartitionsDefinition(grid.training_keys())


def selection_to_training(grid: GridSpec) -> StaticPartitionMapping:
    """Each selection feeds every trained model built from it (one per base model)."""
    mapping: dict[str, set[str]] = defaultdict(set)
    for key in grid.training_keys():
        selector, budget, _ = parse_training_key(key)
        mapping[selection_key(selector, budget)].add(key)
    return StaticPartitionMapping(dict(mapping))


def base_model_to_training(grid: GridSpec) -> StaticPartitionMapping:
    mapping: dict[str, set[str]] = defaultdict(set)
    for key in grid.training_keys():
        mapping[parse_training_key(key)[2]].add(key)
    return StaticPartitionMapping(dict(mapping))

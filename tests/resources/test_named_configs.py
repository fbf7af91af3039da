"""Config lookup by bare name or by path, shared by the training recipes and the evaluation configs."""

from pathlib import Path

import pytest

from resources.named_configs import named_config


def test_a_bare_name_resolves_in_the_folder_and_a_path_as_itself(tmp_path: Path) -> None:
    folder = tmp_path / "configs"
    folder.mkdir()
    (folder / "small.yaml").write_text("a: 1\n")
    outside = tmp_path / "mine.yml"
    outside.write_text("b: 2\n")
    assert named_config("small", folder, (".yaml", ".yml"), "recipe") == folder / "small.yaml"
    assert named_config(str(outside), folder, (".yaml", ".yml"), "recipe") == outside.resolve()


def test_an_unknown_name_lists_what_the_folder_offers(tmp_path: Path) -> None:
    (tmp_path / "objective_small.py").write_text("")
    with pytest.raises(FileNotFoundError, match=r"eval config 'nope' not found .*\['objective_small'\]"):
        named_config("nope", tmp_path, (".py",), "eval config")

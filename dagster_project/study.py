"""A whole study from one grid file: its profile, its resource sections laid over the profile, typed and checked.

Precedence, lowest first: each field's one declaration (the classes in ``SECTIONS``) < the profile the grid names
(``profile: paper``: ``dagster_project/profiles/<name>.yaml``; ``default`` when unnamed) < the grid's own sections
< the profile named by ``$INFOSIFT_ENV`` when set (a run-time overlay: ``INFOSIFT_ENV=small`` shrinks any grid to the
smallest end-to-end settings). Mappings merge key by key; any other value replaces.

Every section is checked when the study loads: an unknown key or a wrong type is a ``GridError`` naming the grid
file, the key and what is allowed. The judge's API key is never read from a file (only ``$INFOSIFT_JUDGE_API_KEY``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assets.constants import ENV_VAR
from resources.annotators import EmbedderResource, ScorerResource, TaggerResource
from resources.judge import JudgeResource
from resources.label_graph import LabelGraphResource
from resources.llamafactory import LlamaFactoryTrainer
from resources.opencompass import OpenCompassRunner, PreferenceEvaluator
from resources.ray_cluster import RayCluster
from selection_ops.study.grid import SECTION_NAMES, GridError, GridSpec, check_known_keys, load_grid

PROFILES_DIR = Path(__file__).parent / "profiles"
DEFAULT_PROFILE = "default"


class ExecutionSettings(BaseModel):
    """Where the study's steps run and how many fine-tunes / evaluations share the machine at once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    executor: Literal["in_process", "ray"] = Field(default="in_process", description=(
        "in_process (steps of a run one after another in its process) or ray (each step a Ray job on the cluster "
        "named by ray.ray_address; dagster_project/ray_execution.py)"))
    accelerator_slots: int | None = Field(default=None, description=(
        "fine-tunes / evaluations at once (the Dagster concurrency pool 'accelerator'); None = "
        "$INFOSIFT_ACCELERATOR_SLOTS, else the CUDA device count, else 1"))


# section path -> (the Dagster resource key, the class holding the fields' one declaration)
SECTIONS: dict[str, tuple[str, type[BaseModel]]] = {
    "annotation.embedder": ("embedder", EmbedderResource),
    "annotation.tagger": ("tagger", TaggerResource),
    "annotation.scorer": ("scorer", ScorerResource),
    "annotation.label_graph": ("label_graph_settings", LabelGraphResource),
    "training": ("trainer", LlamaFactoryTrainer),
    "evaluation.objective": ("evaluator", OpenCompassRunner),
    "evaluation.preference": ("preference_evaluator", PreferenceEvaluator),
    "judge": ("judge", JudgeResource),
    "execution.ray": ("ray_cluster", RayCluster),
    "execution": ("", ExecutionSettings),
}
# sections that only group others
GROUPS = {"annotation": ("embedder", "tagger", "scorer", "label_graph"), "evaluation": ("objective", "preference")}
FORBIDDEN = {"judge.api_key": "the judge's key is read only from $INFOSIFT_JUDGE_API_KEY, never from a grid file"}


@dataclass(frozen=True)
class Study:
    """A loaded study: the grid, the profile it resolved, the merged sections and the resources built from them."""

    grid: GridSpec
    profile: str
    overlay: str | None  # the $INFOSIFT_ENV profile laid over the grid, if any
    sections: Mapping[str, Any]  # merged values, as written (section path -> mapping)
    resources: Mapping[str, Any] = field(default_factory=dict)  # Dagster resource key -> resource object
    execution: ExecutionSettings = field(default_factory=ExecutionSettings)


def profile_names() -> list[str]:
    return sorted(path.stem for path in PROFILES_DIR.glob("*.yaml"))


def read_profile(name: str, where: str) -> dict:
    """The sections of profile ``name``; GridError naming ``where`` (the grid or the variable) when unknown."""
    path = PROFILES_DIR / f"{name}.yaml"
    if not path.is_file():
        raise GridError(f"{where}: unknown profile {name!r}; profiles: {', '.join(profile_names())}")
    sections = dict(yaml.safe_load(path.read_text()) or {})
    base = sections.pop("extends", None)  # a profile may extend another: its sections are laid over the base's
    return merge(read_profile(base, str(path)), sections) if base else sections


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` laid on ``base``: mappings merge key by key (recursively), anything else replaces."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping) and key not in ("sample_limits",
                                                                                          "overrides"):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def environment_profile() -> str | None:
    """``$INFOSIFT_ENV``, when set: a profile laid over the grid's own settings."""
    return os.environ.get(ENV_VAR) or None


def _values(sections: Mapping[str, Any], path: str) -> Mapping[str, Any]:
    node: Any = sections
    for part in path.split("."):
        node = node.get(part, {}) if isinstance(node, Mapping) else {}
    return node if isinstance(node, Mapping) else {}


def _check_keys(grid_file: Path, sections: Mapping[str, Any]) -> None:
    for name, body in sections.items():
        if name not in SECTION_NAMES:
            raise GridError(f"{grid_file}: unknown section {name!r}; sections: {', '.join(SECTION_NAMES)}")
        if not isinstance(body, Mapping):
            raise GridError(f"{grid_file}: {name} must be a mapping, got {body!r}")
    for path, (_, cls) in SECTIONS.items():
        nested = [p.rsplit(".", 1)[-1] for p in SECTIONS if p.rsplit(".", 1)[0] == path and "." in p]
        values = _values(sections, path)
        for key in values:
            if f"{path}.{key}" in FORBIDDEN:
                raise GridError(f"{grid_file}: {path}.{key}: {FORBIDDEN[f'{path}.{key}']}")
        check_known_keys(grid_file, f"{path}.", values, [*cls.model_fields, *nested])
    for group, children in GROUPS.items():
        check_known_keys(grid_file, f"{group}.", _values(sections, group), children)


def _build(grid_file: Path, path: str, cls: type[BaseModel], values: Mapping[str, Any]) -> Any:
    """``cls(**values)``; a GridError naming the file, the key and the problem when pydantic refuses them."""
    values = {k: v for k, v in values.items() if f"{path}.{k}" not in SECTIONS}
    if cls is LlamaFactoryTrainer and isinstance(values.get("overrides"), Mapping):
        values = {**values, "overrides": json.dumps(values["overrides"], sort_keys=True)}
    try:
        return cls(**values)
    except ValidationError as error:
        problem = error.errors()[0]
        loc = ".".join(str(part) for part in problem["loc"])
        key = f"{path}.{loc}" if loc else path
        given = f" (got {problem['input']!r})" if loc and "input" in problem else ""
        raise GridError(f"{grid_file}: {key}: {problem['msg']}{given}") from None
    except (ValueError, TypeError) as error:
        raise GridError(f"{grid_file}: {path}: {error}") from None


def resolve(grid: GridSpec, env: str | None = None) -> Study:
    """The study's profile, merged sections and resources (see the module docstring for the precedence)."""
    profile = grid.profile or DEFAULT_PROFILE
    sections = read_profile(profile, f"{grid.source_path}: profile")
    _check_keys(PROFILES_DIR / f"{profile}.yaml", sections)
    _check_keys(grid.source_path, grid.sections)
    sections = merge(sections, grid.sections)
    overlay = env if env is not None else environment_profile()
    if overlay and overlay != profile:
        extra = read_profile(overlay, f"${ENV_VAR}={overlay}")
        _check_keys(PROFILES_DIR / f"{overlay}.yaml", extra)
        sections = merge(sections, extra)
    built: dict[str, Any] = {}
    execution = ExecutionSettings()
    for path, (key, cls) in SECTIONS.items():
        value = _build(grid.source_path, path, cls, _values(sections, path))
        if key:
            built[key] = value
        else:
            execution = value
    if execution.executor == "ray" and not built["ray_cluster"].ray_address:
        raise GridError(f"{grid.source_path}: execution.executor is ray but execution.ray.ray_address is empty "
                        "(auto, or ray://head:10001)")
    return Study(grid=grid, profile=profile, overlay=overlay if overlay != profile else None, sections=sections,
                 resources=built, execution=execution)


def load_study(path: Path | str | None = None, env: str | None = None) -> Study:
    """Read the grid file (``$INFOSIFT_GRID`` or the embedded default when None) and resolve its resources."""
    return resolve(load_grid(Path(path) if path else None), env)


def hub_offline() -> bool:
    """Whether the Hugging Face Hub is off for this process (``HF_HUB_OFFLINE``; the main job sets it)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def preflight_problems(study: Study, offline: bool | None = None) -> list[str]:
    """What the study names but cannot have, found before any work, one line each naming the key: base models (the
    embedded model, a local folder with a config, or - online, or already cached - a Hub id), the judge's model or
    endpoint, the training recipe and the benchmarks."""
    from urllib.parse import urlparse

    from resources.llamafactory import recipe_path_for
    from selection_ops.evaluation.benchmarks import BENCHMARKS, LIKELIHOOD_BENCHMARKS, PREFERENCE_BENCHMARKS
    from selection_ops.models.base_model import model_reference_problem

    offline = hub_offline() if offline is None else offline
    problems = []
    for key, reference in study.grid.base_models.items():
        problem = model_reference_problem(reference, offline)
        if problem:
            problems.append(f"base_models.{key}: {problem}")
    judge = study.resources["judge"]
    if judge.kind == "hf":
        problem = model_reference_problem(judge.model_path, offline)
        if problem:
            problems.append(f"judge.model_path: {problem}")
    if judge.kind == "openai":
        url = judge.resolved_url()
        parsed = urlparse(url or "")
        if not url or parsed.scheme not in ("http", "https") or not parsed.netloc:
            problems.append(f"judge.url: {url!r} is not an http(s) URL of an OpenAI-compatible endpoint "
                            "(or set $INFOSIFT_JUDGE_URL)")
    trainer = study.resources["trainer"]
    try:
        recipe = recipe_path_for(trainer.recipe)
        if not recipe.is_file():
            problems.append(f"training.recipe: {trainer.recipe!r}: no such recipe ({recipe})")
    except (FileNotFoundError, ValueError) as error:
        problems.append(f"training.recipe: {error}")
    known = {**BENCHMARKS, **LIKELIHOOD_BENCHMARKS}
    for name in study.resources["evaluator"].datasets:
        if name not in known:
            problems.append(f"evaluation.objective.datasets: unknown benchmark {name!r}; known: {', '.join(known)}")
    for name in study.resources["preference_evaluator"].benchmarks:
        if name not in PREFERENCE_BENCHMARKS:
            problems.append(f"evaluation.preference.benchmarks: unknown benchmark {name!r}; known: "
                            f"{', '.join(PREFERENCE_BENCHMARKS)}")
    return problems


def fields_markdown() -> str:
    """Every field a grid's sections may set, with its default and help text (docs/grid.md's table)."""
    lines = ["| key | default | meaning |", "|---|---|---|"]
    for path, (_, cls) in SECTIONS.items():
        for name, info in cls.model_fields.items():
            if f"{path}.{name}" in FORBIDDEN:
                continue
            factory = info.default_factory
            default = repr(info.default) if factory is None else repr(factory()) if factory in (list, dict) \
                else "(from the environment)"
            text = " ".join((info.description or "").split()).replace("|", "/")
            lines.append(f"| `{path}.{name}` | `{default}` | {text} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(fields_markdown())

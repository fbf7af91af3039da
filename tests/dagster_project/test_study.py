"""A grid file describes a whole study: profiles, typed sections checked at load, and the resources they become."""

from __future__ import annotations

from pathlib import Path

import pytest

from dagster_project.study import SECTIONS, load_study, profile_names
from selection_ops.study.grid import GridError

GRIDS = Path(__file__).resolve().parents[2] / "dagster_project" / "grids"
HEAD = "study: s1\nselectors: [random, mig]\nbudgets: [8]\n"


def write_grid(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "grid.yaml"
    path.write_text(HEAD + body)
    return path


@pytest.mark.parametrize("grid", sorted(GRIDS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_grid_validates(grid: Path, monkeypatch) -> None:
    monkeypatch.delenv("INFOSIFT_ENV", raising=False)
    study = load_study(grid)
    assert set(study.resources) == {key for key, _ in SECTIONS.values() if key}
    assert study.profile in profile_names()


def test_the_paper_grid_resolves_to_the_papers_setting(monkeypatch) -> None:
    monkeypatch.delenv("INFOSIFT_ENV", raising=False)
    study = load_study(GRIDS / "mig_table1_llama.yaml")
    judge, trainer = study.resources["judge"], study.resources["trainer"]
    assert (judge.kind, judge.mode, judge.pairwise_order) == ("openai", "generate", "random")
    assert judge.model_name == "opencompass/CompassJudger-1-32B-Instruct"
    assert (trainer.recipe, trainer.launch, trainer.nproc_per_node, trainer.effective_batch_size) == \
        ("mig_a3_tulu3", "torchrun", 8, 128)
    assert study.resources["evaluator"].datasets == ["arc_c", "bbh", "gsm8k", "humaneval", "mmlu", "ifeval"]
    assert study.resources["evaluator"].sample_limit is None  # whole benchmarks
    assert study.resources["preference_evaluator"].benchmarks == ["alpacaeval_v2", "mtbench", "wildbench"]
    assert study.resources["label_graph_settings"].threshold == 0.9
    assert study.resources["tagger"].kind == "llm-vllm" and study.resources["scorer"].kind == "deita"
    assert study.grid.pool_sources[0]["hf_id"] == "allenai/tulu-3-sft-mixture"


@pytest.mark.parametrize("body, needle", [
    ("budget: [8]\n", "unknown key budget (did you mean 'budgets'?)"),
    ("training: {max_stpes: 2}\n", "unknown key training.max_stpes"),
    ("training: {launch: cluster}\n", "training.launch"),
    ("evaluation: {objectve: {}}\n", "unknown key evaluation.objectve (did you mean 'objective'?)"),
    ("judge: {kind: openai, url: http://x/v1, api_key: sk-123}\n", "judge.api_key"),
    ("judge: {kind: hf}\n", "needs model_path"),
    ("annotation: {scorer: {kind: deita, batch_size: many}}\n", "annotation.scorer.batch_size"),
    ("profile: papr\n", "unknown profile 'papr'"),
    ("pool: {sources: [{name: x}]}\n", "pool.sources[0] needs a path"),
    ("execution: {executor: ray}\n", "execution.ray.ray_address is empty"),
])
def test_a_wrong_grid_fails_at_load_naming_the_file_and_the_key(tmp_path: Path, body: str, needle: str) -> None:
    path = write_grid(tmp_path, body)
    with pytest.raises(GridError) as error:
        load_study(path, env="")
    assert str(path) in str(error.value) and needle in str(error.value)
    assert "sk-123" not in str(error.value)


def test_unknown_keys_list_what_is_allowed(tmp_path: Path) -> None:
    with pytest.raises(GridError, match=r"allowed: recipe, finetuning_type, overrides"):
        load_study(write_grid(tmp_path, "training: {recipes: x}\n"), env="")


def test_profile_then_grid_then_environment_overlay(tmp_path: Path) -> None:
    """The grid overrides its profile field by field; ``$INFOSIFT_ENV``'s profile is laid over both."""
    path = write_grid(tmp_path, "profile: power\nevaluation: {objective: {sample_limits: {arc_c: 5}}}\n"
                                "training: {overrides: {learning_rate: 0.001}}\n")
    plain = load_study(path, env="")
    evaluator = plain.resources["evaluator"]
    assert evaluator.datasets == ["arc_c", "ref_bpb_alpaca", "arc_c_cloze"]  # from the profile
    assert evaluator.sample_limits == {"arc_c": 5}  # the grid's mapping replaces the profile's
    assert plain.resources["preference_evaluator"].max_out_len == 32  # power extends default
    assert plain.resources["trainer"].overrides == '{"learning_rate": 0.001}'
    small = load_study(path, env="small")
    assert small.overlay == "small"
    assert small.resources["evaluator"].sample_limit == 2 and small.resources["evaluator"].sample_limits == {}
    assert small.resources["trainer"].overrides == '{"max_steps": 2}'
    assert small.resources["evaluator"].datasets == evaluator.datasets  # what small does not set stays


def test_sections_reach_the_resources_the_jobs_receive(tmp_path: Path) -> None:
    """Built into Definitions, the grid's judge, annotators, label graph and trainer are the resources jobs get."""
    from dagster import build_resources

    from dagster_project.definitions import build_definitions
    from selection_ops.study.grid import load_grid

    path = write_grid(tmp_path, "judge: {kind: openai, url: http://127.0.0.1:9/v1, model_name: cj}\n"
                                "annotation: {tagger: {max_tags: 3}, label_graph: {threshold: 0.8}}\n"
                                "training: {recipe: lora_cpu_small, finetuning_type: lora}\n")
    defs = build_definitions(load_grid(path), env="", home=str(tmp_path / "home"))
    job = defs.resolve_job_def("study_grid") if "study_grid" in {j.name for j in defs.resolve_all_job_defs()} \
        else defs.resolve_all_job_defs()[0]
    names = ("judge", "tagger", "label_graph_settings", "trainer")
    with build_resources({name: job.resource_defs[name] for name in names}) as built:  # as a run initialises them
        resources = {name: getattr(built, name) for name in names}
    assert resources["judge"].kind == "openai" and resources["judge"].model_name == "cj"
    assert resources["tagger"].max_tags == 3
    assert resources["label_graph_settings"].threshold == 0.8
    assert (resources["trainer"].recipe, resources["trainer"].finetuning_type) == ("lora_cpu_small", "lora")
    graph = defs.resolve_asset_graph()
    label_graph = next(node for node in graph.asset_nodes if node.key.to_user_string() == "label_graph")
    assert label_graph.code_version != "2"  # a changed threshold makes the label graph stale


def test_docs_list_every_field_a_grid_may_set() -> None:
    from dagster_project.study import fields_markdown

    docs = (GRIDS.parents[1] / "docs" / "grid.md").read_text()
    assert fields_markdown() in docs, "docs/grid.md is stale: regenerate it with python -m dagster_project.study"


def test_jobs_retry_steps_only_on_ray(tmp_path: Path) -> None:
    """On Ray a lost node fails a step and a retry reruns it elsewhere; in-process a failed step is not retried."""
    from dagster_project.definitions import build_definitions
    from dagster_project.ray_execution import ray_step_executor
    from selection_ops.study.grid import load_grid

    grid = load_grid(write_grid(tmp_path, "execution: {ray: {max_task_retries: 2}}\n"))
    local = build_definitions(grid, env="", home=str(tmp_path / "h"))
    assert all(job.op_retry_policy is None for job in local.resolve_all_job_defs())
    ray = build_definitions(grid, env="", home=str(tmp_path / "h"), executor=ray_step_executor("http://x:8265"))
    policies = {job.name: job.op_retry_policy for job in ray.resolve_all_job_defs() if not job.name.startswith("__")}
    assert policies and all(p is not None and p.max_retries == 2 for p in policies.values())

"""The Ray setting: addresses, per-annotator actor resources, cell resource tags; in-process never imports Ray."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from resources.ray_cluster import RAY_CONFIG_TAG, RayCluster, cell_op_tags, cell_resources, jobs_address_for
from selection_ops.foundation.paths import REPO_ROOT
from selection_ops.ray_session import RaySessionSettings


def test_jobs_address_is_derived_from_the_cluster_address() -> None:
    assert jobs_address_for("ray://head.example:10001") == "http://head.example:8265"
    assert jobs_address_for("10.0.0.5:6379") == "http://10.0.0.5:8265"
    assert jobs_address_for("auto") is None
    assert jobs_address_for("local", "http://h:9000") == "http://h:9000"
    with pytest.raises(ValueError, match="no standing cluster"):
        jobs_address_for("local")


def test_local_runtime_is_loopback_only_with_the_given_sizes() -> None:
    kwargs = RaySessionSettings(ray_address="local", num_cpus=2, object_store_mb=100).init_kwargs()
    assert kwargs["num_cpus"] == 2 and kwargs["object_store_memory"] == 100 * 1024 * 1024
    assert kwargs["_node_ip_address"] == "127.0.0.1" and kwargs["include_dashboard"] is False
    assert RaySessionSettings(ray_address="ray://h:10001").init_kwargs()["address"] == "ray://h:10001"
    with pytest.raises(ValueError, match="empty"):
        RaySessionSettings(ray_address="").init_kwargs()


def test_per_annotator_actor_resources_override_the_default() -> None:
    cluster = RayCluster(ray_address="auto", annotation_actors=4, actor_num_gpus=0.5,
                         per_annotator={"handcrafted": {"actors": 1, "num_gpus": 0}})
    settings = cluster.annotation_settings()
    assert settings.resources_for("embedding").actors == 4 and settings.resources_for("embedding").num_gpus == 0.5
    assert settings.resources_for("handcrafted").actors == 1 and settings.resources_for("handcrafted").num_gpus == 0
    with pytest.raises(ValueError, match="per_annotator\\['x'\\].*gpus"):
        RayCluster(ray_address="auto", per_annotator={"x": {"gpus": 1}}).annotation_settings()


def test_cells_ask_for_their_gpus_and_evaluation_adds_an_in_step_judge() -> None:
    assert json.loads(cell_op_tags("fine_tune", "")[RAY_CONFIG_TAG]) == {"num_cpus": 4, "num_gpus": 1}
    served_judge = json.loads(cell_op_tags("evaluation", "")[RAY_CONFIG_TAG])
    local_judge = json.loads(cell_op_tags("evaluation", '{"judge": {"num_gpus": 4}}')[RAY_CONFIG_TAG])
    assert served_judge["num_gpus"] == 1 and local_judge["num_gpus"] == 5
    assert cell_resources('{"fine_tune": {"num_gpus": 8}}')["fine_tune"] == {"num_cpus": 4, "num_gpus": 8.0}
    with pytest.raises(ValueError, match="unknown cell kind 'train'"):
        cell_resources('{"train": {"num_gpus": 1}}')


def test_in_process_default_never_imports_ray(tmp_path) -> None:
    """The embedded default's path: definitions load and annotation runs without Ray in sys.modules."""
    code = (
        "import sys, pandas as pd\n"
        "import dagster_project.definitions as d\n"
        "assert d.defs.get_job_def('select_grid').executor_def.name != 'infosift_ray_executor'\n"
        "from resources.ray_cluster import RayCluster\n"
        "from selection_ops.annotation.config import AnnotationConfig\n"
        "pool = pd.DataFrame({'id': ['a'], 'conversation': [[{'role': 'user', 'content': 'Hi there'},"
        " {'role': 'assistant', 'content': 'Hello, how can I help?'}]], 'source': ['t']})\n"
        f"RayCluster(ray_address='').annotate(pool, AnnotationConfig(show_progress=False), {str(tmp_path)!r})\n"
        "print('ray' in sys.modules, 'dagster_ray' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("INFOSIFT_RAY_ADDRESS", "RAY_ADDRESS")}
    env["INFOSIFT_HOME"] = str(tmp_path / "home")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == "False False"

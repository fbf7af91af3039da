"""Where the work runs: in this process, on a local Ray runtime, or on an existing Ray cluster.

One setting, ``ray_address``, decides it (the same values as ``ray.init(address=...)``, plus the empty string):

    ""                      in-process, as without Ray; Ray is never imported
    "local"                 start a Ray runtime on this machine for the duration of the session
    "auto"                  join the cluster this machine is part of (``ray start --head`` / ``--address`` ran here)
    "ray://head:10001"      join a remote cluster through the Ray Client server of its head node
    "head:6379"             join a cluster by its GCS address (this machine must be able to reach every node)

A session already connected (``ray.is_initialized()``; a test fixture, a notebook) is reused as it is and left
connected afterwards; a session this module opened is shut down when the block ends.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

IN_PROCESS = ""
LOCAL = "local"


def uses_ray(ray_address: str) -> bool:
    """True unless ``ray_address`` is empty (the in-process default)."""
    return bool(ray_address.strip())


@dataclass(frozen=True)
class RaySessionSettings:
    """How to reach (or start) the Ray runtime; see the module docstring for ``ray_address``."""

    ray_address: str = field(default=IN_PROCESS, metadata={"help": "'' in-process, 'local', 'auto' or 'ray://...'"})
    num_cpus: int | None = field(default=None, metadata={"help": "CPUs of a 'local' runtime (None = all)"})
    num_gpus: int | None = field(default=None, metadata={"help": "GPUs of a 'local' runtime (None = all visible)"})
    object_store_mb: int | None = field(default=None, metadata={"help": "object store of a 'local' runtime, MiB"})
    include_dashboard: bool = field(default=False, metadata={
        "help": "start the dashboard (and with it the Ray Jobs API) with a 'local' runtime"})
    loopback_only: bool = field(default=True, metadata={
        "help": "a 'local' runtime listens on 127.0.0.1 only (nothing outside this machine can reach it)"})

    def init_kwargs(self) -> dict:
        """Keyword arguments of ``ray.init`` for these settings."""
        address = self.ray_address.strip()
        if not address:
            raise ValueError("ray_address is empty: the in-process setting opens no Ray session")
        if address != LOCAL:
            return {"address": address, "log_to_driver": False}
        kwargs: dict = {"address": "local", "include_dashboard": self.include_dashboard, "log_to_driver": False}
        if self.num_cpus is not None:
            kwargs["num_cpus"] = self.num_cpus
        if self.num_gpus is not None:
            kwargs["num_gpus"] = self.num_gpus
        if self.object_store_mb is not None:
            kwargs["object_store_memory"] = self.object_store_mb * 1024 * 1024
        if self.loopback_only:
            kwargs["_node_ip_address"] = "127.0.0.1"
            if self.include_dashboard:
                kwargs["dashboard_host"] = "127.0.0.1"
        return kwargs


@contextlib.contextmanager
def ray_session(settings: RaySessionSettings) -> Iterator[bool]:
    """Yields True inside a connected Ray session, False for the in-process setting (Ray is then not imported)."""
    if not uses_ray(settings.ray_address):
        yield False
        return
    import ray

    if ray.is_initialized():
        yield True
        return
    kwargs = settings.init_kwargs()
    context = ray.init(**kwargs)
    logger.info("Ray session on %s (%s); cluster resources %s", settings.ray_address,
                getattr(context, "address_info", {}).get("address", "client"), ray.cluster_resources())
    try:
        yield True
    finally:
        ray.shutdown()

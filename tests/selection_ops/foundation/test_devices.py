"""foundation.devices: the one place that asks whether a CUDA device exists, and maps names to devices and dtypes."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from selection_ops.foundation import devices


def test_cuda_available_agrees_with_torch() -> None:
    assert devices.cuda_available() is torch.cuda.is_available()
    assert devices.cuda_device_count() == (torch.cuda.device_count() if torch.cuda.is_available() else 0)


def test_no_driver_answers_without_importing_torch() -> None:
    code = ("import sys, os, shutil; from selection_ops.foundation.devices import cuda_available; "
            "driver = os.path.exists('/dev/nvidiactl') or shutil.which('nvidia-smi') is not None; "
            "answer = cuda_available(); print(answer, driver, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    answer, driver, torch_loaded = out
    if driver == "False":
        assert (answer, torch_loaded) == ("False", "False")


@pytest.fixture
def no_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "cuda_available", lambda: False)


@pytest.fixture
def with_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "cuda_available", lambda: True)


def test_resolve_device_without_cuda(no_cuda: None) -> None:
    assert devices.resolve_device("auto") == "cpu"
    assert devices.resolve_device("cpu") == "cpu"
    with pytest.raises(RuntimeError, match="MIG device 'cuda' was asked for"):
        devices.resolve_device("cuda", owner="MIG device")
    with pytest.raises(RuntimeError, match="'cuda' was asked for"):
        devices.resolve_device("cuda:1")


def test_resolve_device_with_cuda(with_cuda: None) -> None:
    assert devices.resolve_device("auto") == "cuda"
    assert devices.resolve_device("cuda:1") == "cuda:1"
    assert devices.resolve_device("cpu") == "cpu"


def test_resolve_dtype_names_and_auto() -> None:
    assert devices.resolve_dtype("auto", "cpu") is torch.float32
    assert devices.resolve_dtype("bf16", "cpu") is torch.bfloat16
    assert devices.resolve_dtype("float16", "cuda") is torch.float16
    assert devices.resolve_dtype("fp32", "cuda") is torch.float32
    with pytest.raises(ValueError, match="dtype must be auto or one of"):
        devices.resolve_dtype("int8", "cpu")


def test_every_cuda_check_asks_the_foundation(monkeypatch: pytest.MonkeyPatch) -> None:
    """The selectors, MIG and the metrics use the foundation's answer: 'no GPU' there means CPU paths here."""
    import selection_ops.metrics._inputs as inputs
    from selection_ops.mig import sampler
    from selection_ops.selectors import kcenter, novelselect, qdit

    for module in (kcenter, novelselect, qdit, inputs):
        assert module.cuda_available is devices.cuda_available  # no private copy of the check
        monkeypatch.setattr(module, "cuda_available", lambda: False)
    monkeypatch.setattr(devices, "cuda_available", lambda: False)
    assert inputs.torch_cuda_device() is None
    assert sampler.resolve_device("auto") == "cpu"
    with pytest.raises(RuntimeError, match="MIG device 'cuda' was asked for"):
        sampler.resolve_device("cuda")
    with pytest.raises(ValueError, match="MIG device must be"):
        sampler.resolve_device("tpu")

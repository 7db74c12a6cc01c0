"""The Neovim plugin in a real headless Neovim 0.10, against a real ``tandem serve``.

Each test starts ``nvim --headless`` with ``editors/nvim/tests/minimal_init.lua`` (only the
plugin on the runtimepath) and ``editors/nvim/tests/driver.lua`` (a scenario that drives the
editor and writes what it saw as JSON), on a scratch git copy of ``examples/projects_api``.
The server runs from this checkout (``PYTHONPATH=server``). Neovim comes from
``tools/install_nvim.sh .cache/nvim`` (``.ci/run`` installs it); these tests do not download it
and skip, saying how to install it, when it is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tandem import __version__

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "editors" / "nvim"
MINIMAL_INIT = PLUGIN / "tests" / "minimal_init.lua"
DRIVER = PLUGIN / "tests" / "driver.lua"
EXAMPLE = REPO / "examples" / "projects_api"
SERVER_CMD = [sys.executable, "-m", "tandem", "serve"]
NVIM_TIMEOUT_S = 120

pytestmark = pytest.mark.slow


def _nvim_version(path: str) -> tuple[int, int] | None:
    try:
        first = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout.splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return None
    match = re.match(r"NVIM v(\d+)\.(\d+)", first)
    return (int(match.group(1)), int(match.group(2))) if match else None


def find_nvim() -> str | None:
    """$TANDEM_NVIM, the repository's cache (tools/install_nvim.sh), then $PATH; 0.10 or later."""
    candidates = [
        os.environ.get("TANDEM_NVIM"),
        str(REPO / ".cache" / "nvim" / "bin" / "nvim"),
        shutil.which("nvim"),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            version = _nvim_version(candidate)
            if version is not None and version >= (0, 10):
                return candidate
    return None


@pytest.fixture(scope="module")
def nvim() -> str:
    found = find_nvim()
    if found is None:
        pytest.skip(
            "Neovim 0.10+ not found: run `tools/install_nvim.sh .cache/nvim` "
            "(or set TANDEM_NVIM); .ci/run does this before the tests"
        )
    return found


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=test@example.com", "-c", "user.name=test", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A git copy of the example (so "changes since HEAD" means the draft's changes)."""
    repo = tmp_path / "projects_api"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns("__pycache__", ".tandem"))
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "example")
    return repo


def nvim_env(
    out: Path, scenario: str, cmd: list[str] | None = None, **extra: str
) -> dict[str, str]:
    env = {
        **os.environ,
        "TANDEM_TEST_CMD": json.dumps(cmd or SERVER_CMD),
        "TANDEM_TEST_ENV": json.dumps({"PYTHONPATH": str(REPO / "server")}),
        "TANDEM_TEST_SCENARIO": scenario,
        "TANDEM_TEST_OUT": str(out),
        "XDG_CONFIG_HOME": str(out.parent / "xdg-config"),
        "XDG_DATA_HOME": str(out.parent / "xdg-data"),
        "XDG_STATE_HOME": str(out.parent / "xdg-state"),
        **extra,
    }
    env.pop("NVIM", None)  # never talk to an enclosing Neovim
    return env


def run_scenario(
    nvim: str, workspace: Path, scenario: str, cmd: list[str] | None = None, **extra: str
) -> dict[str, Any]:
    out = workspace.parent / f"{scenario}.json"
    args = [nvim, "--headless", "-u", str(MINIMAL_INIT), "app/handlers.py"]
    args += ["-c", f"luafile {DRIVER}"]
    proc = subprocess.run(
        args,
        cwd=workspace,
        env=nvim_env(out, scenario, cmd, **extra),
        capture_output=True,
        text=True,
        timeout=NVIM_TIMEOUT_S,
        check=False,
    )
    assert out.is_file(), f"nvim wrote no result (exit {proc.returncode}):\n{proc.stderr}"
    seen: dict[str, Any] = json.loads(out.read_text())
    assert "failure" not in seen, seen["failure"]
    return seen


def test_plugin_starts_the_server_at_the_workspace_root_and_adds_the_commands(
    nvim: str, workspace: Path
) -> None:
    seen = run_scenario(nvim, workspace, "startup")
    assert seen["attached"] is True
    assert seen["root_dir"] == str(workspace)
    assert seen["user_commands"] == [
        "TandemDraft",
        "TandemEstimate",
        "TandemPlan",
        "TandemReport",
        "TandemReview",
    ]
    assert seen["plan_handler"] is True


def test_checkhealth_reports_neovim_the_server_version_doctor_and_the_client(
    nvim: str, workspace: Path
) -> None:
    health = run_scenario(nvim, workspace, "startup")["health"]
    assert re.search(r"OK Neovim 0\.1\d\.\d+", health)
    assert f"OK version: tandem {__version__}" in health
    assert f"doctor --workspace {workspace}" in health
    assert "OK grammar tree_sitter_python: loaded" in health
    assert f"running: tandem {__version__}, root {workspace}" in health


def test_missing_tandem_is_reported_clearly_everywhere(nvim: str, workspace: Path) -> None:
    missing = str(workspace / "no-venv" / "bin" / "tandem")
    seen = run_scenario(nvim, workspace, "missing", cmd=[missing, "serve"])
    assert seen["clients"] == 0
    messages = [note["message"] for note in seen["notifications"]]
    assert any(
        "cannot start the server" in m and missing in m and "pip install tandem-lsp" in m
        for m in messages
    ), messages
    assert any("the server is not running" in m and ":checkhealth tandem" in m for m in messages)
    assert f"ERROR Tandem not found: `{missing}` does not exist" in seen["health"]

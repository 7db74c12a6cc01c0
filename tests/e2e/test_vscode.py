"""The VS Code extension end to end in a real VS Code (code-server), driven by playwright-core.

``editors/vscode/e2e/run.sh`` does the work (package and install the .vsix, plan → draft in the
refactor preview → apply → review → report → estimate on a copy of the example with the FAKE
provider). It needs code-server installed by ``editors/vscode/e2e/install_code_server.sh`` into
``$VSCODE_E2E_HOME`` (default ``~/.cache/tandem-vscode-e2e``; ``.ci/run`` installs it); this test
never downloads it and skips, saying how to install it, when it is missing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RUN = REPO / "editors" / "vscode" / "e2e" / "run.sh"


def e2e_home() -> Path:
    default = Path.home() / ".cache" / "tandem-vscode-e2e"
    return Path(os.environ.get("VSCODE_E2E_HOME", default))


@pytest.mark.timeout(600)
def test_plan_draft_apply_review_report_and_estimate_in_a_real_vs_code(tmp_path: Path) -> None:
    home = e2e_home()
    if not (home / "env.sh").is_file() or not (home / "bin" / "code-server").exists():
        pytest.skip(
            f"code-server is not installed in {home}: "
            f"run editors/vscode/e2e/install_code_server.sh {home}"
        )
    env = {
        **os.environ,
        "VSCODE_E2E_HOME": str(home),
        "TANDEM_PYTHON": sys.executable,
        # Screenshots of a test run never overwrite the README's.
        "E2E_SCREENSHOT": str(tmp_path / "vscode.png"),
        "E2E_DRAFT_SCREENSHOT": str(tmp_path / "vscode-draft.png"),
    }
    run = subprocess.run(
        [str(RUN)], cwd=REPO, env=env, capture_output=True, text=True, timeout=580, check=False
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    assert "e2e: passed" in run.stdout
    assert (tmp_path / "vscode.png").stat().st_size > 0
    assert (tmp_path / "vscode-draft.png").stat().st_size > 0

"""``tandem report --html`` in a real headless browser: the page renders, and its step value and
recurring-findings charts and advice list hold the ledger's figures (issue 15).

Drives Debian's chromium with the playwright-core that ``editors/vscode/e2e/install_code_server.sh``
installs into ``$VSCODE_E2E_HOME`` (``.ci/run`` does); skips, saying how, when either is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "unit"))

from outcome_history import write_history  # noqa: E402

from tandem.cli import main  # noqa: E402
from tandem.config import Settings  # noqa: E402
from tandem.ledger.sqlite import SqliteLedger  # noqa: E402
from tandem.reports.advice import advise  # noqa: E402
from tandem.reports.evidence import load_evidence  # noqa: E402
from tandem.reports.step_value import recurring_findings, step_values  # noqa: E402

SCRIPT = Path(__file__).with_name("report_page.cjs")


def browser_home() -> Path:
    home = Path(os.environ.get("VSCODE_E2E_HOME", Path.home() / ".cache" / "tandem-vscode-e2e"))
    playwright = home / "tools" / "node_modules" / "playwright-core"
    chromium = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
    if not playwright.is_dir() or not Path(chromium).exists() or not shutil.which("node"):
        pytest.skip(
            f"playwright-core or chromium missing: run editors/vscode/e2e/install_code_server.sh "
            f"{home}"
        )
    return home


@pytest.mark.timeout(180)
def test_the_report_page_renders_charts_holding_step_value_findings_and_advice(
    tmp_path: Path,
) -> None:
    home = browser_home()
    ledger_path = tmp_path / "ledger.sqlite"
    with SqliteLedger(ledger_path) as ledger:
        write_history(ledger, 20)
        evidence = load_evidence(ledger, None)
    values, found = step_values(evidence), recurring_findings(evidence)
    advice = advise(evidence, Settings())
    page = tmp_path / "report.html"
    argv = [
        "report",
        "--ledger",
        str(ledger_path),
        "--html",
        str(page),
        "--workspace",
        str(tmp_path),
    ]
    assert main(argv) == 0
    env = {**os.environ, "VSCODE_E2E_HOME": str(home), "E2E_SCREENSHOT": str(tmp_path / "p.png")}
    run = subprocess.run(
        ["node", str(SCRIPT), str(page)], env=env, capture_output=True, text=True, timeout=150
    )
    assert run.returncode == 0, run.stderr[-2000:]
    seen = json.loads(run.stdout)
    assert seen["errors"] == [] and seen["title"].startswith("Tandem report")
    bars = seen["charts"]["step-value"]["bars"]
    assert len(bars) == len(values)
    for bar, value in zip(bars, values, strict=True):
        assert (bar["step"], bar["tier"], bar["model"]) == (value.step, value.tier, value.model)
        assert int(bar["runs"]) == value.runs and int(bar["catches"]) == value.catches
        assert Decimal(bar["cost"]) == value.cost_usd
        assert float(bar["changedPct"]) == value.changed_outcome_pct
        assert int(bar["defects"]) == value.defects_after
        assert bar["visible"] and bar["drawn"] > 0
    # Bars are drawn to scale: the dearest step is the longest bar.
    dearest = max(range(len(values)), key=lambda i: values[i].cost_usd)
    assert bars[dearest]["drawn"] == max(bar["drawn"] for bar in bars)
    cheapest = min(values, key=lambda v: v.cost_usd).cost_usd
    ratio = float(values[dearest].cost_usd / cheapest)
    drawn = [b["drawn"] for b in bars]
    assert max(drawn) / min(drawn) == pytest.approx(ratio, rel=0.05)
    recurring = seen["charts"]["recurring"]["bars"]
    assert [(b["category"], b["message"], int(b["count"])) for b in recurring] == [
        (r.category, r.message, r.count) for r in found
    ]
    assert [(a["setting"], a["kind"]) for a in seen["advice"]] == [
        (a.setting, "keep" if a.suggested is None else "change") for a in advice
    ]
    assert (tmp_path / "p.png").stat().st_size > 0

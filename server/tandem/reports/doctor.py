"""Health checks behind ``tandem doctor``: each check says what is wrong and how to fix it."""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from tandem.config import LoadedSettings, key_is_set
from tandem.ledger.location import configured_ledger, without_password

GRAMMAR_MODULES: tuple[str, ...] = (
    "tree_sitter_python",
    "tree_sitter_javascript",
    "tree_sitter_typescript",
    "tree_sitter_go",
    "tree_sitter_rust",
    "tree_sitter_java",
)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    severity: int = 1  # the exit status this check forces when it fails


@dataclass
class DoctorReport:
    checks: list[Check] = field(default_factory=list)

    @property
    def exit_status(self) -> int:
        return max((check.severity for check in self.checks if not check.ok), default=0)


def _writable(path: Path) -> bool:
    directory = path.parent
    while not directory.exists():
        directory = directory.parent
    return os.access(directory, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))


def diagnose(loaded: LoadedSettings, workspace: Path, environ: dict[str, str]) -> DoctorReport:
    report = DoctorReport()
    report.checks.append(
        Check("settings sources", True, " < ".join(loaded.sources) + " (later wins)")
    )
    for problem in loaded.problems:
        report.checks.append(
            Check(
                f"setting {problem.key_path}",
                False,
                str(problem),
                "fix or remove it; `tandem config schema` lists what is allowed",
                severity=2,
            )
        )
    for alias, model in loaded.settings.models.items():
        where = f" at {model.base_url}" if model.base_url else ""
        if key_is_set(model, environ):
            detail = f"{model.provider}:{model.model}{where}; key variable " + (
                f"{model.api_key_env} is set" if model.api_key_env else "not needed"
            )
            report.checks.append(Check(f"model {alias}", True, detail))
        else:
            report.checks.append(
                Check(
                    f"model {alias}",
                    False,
                    f"{model.provider}:{model.model}{where}; {model.api_key_env} is not set",
                    f"export {model.api_key_env}=... to call it; offline, the demo and "
                    "estimates still work",
                    severity=0,
                )
            )
    for module in GRAMMAR_MODULES:
        try:
            importlib.import_module(module)
            report.checks.append(Check(f"grammar {module}", True, "loaded"))
        except ImportError as error:
            report.checks.append(
                Check(
                    f"grammar {module}",
                    False,
                    str(error),
                    "pip install " + module.replace("_", "-"),
                )
            )
    target = configured_ledger(loaded.settings.ledger, workspace)
    if isinstance(target, str):  # ledger.url: a shared database, no file here to check
        report.checks.append(
            Check("ledger", True, f"shared PostgreSQL ledger {without_password(target)}")
        )
        return report
    if _writable(target):
        report.checks.append(Check("ledger", True, f"{target} is writable"))
    else:
        report.checks.append(
            Check(
                "ledger", False, f"{target} is not writable", "set ledger.path to a writable file"
            )
        )
    return report


def render(report: DoctorReport) -> str:
    lines = []
    for check in report.checks:
        mark = "ok " if check.ok else ("!! " if check.severity else "-- ")
        lines.append(f"{mark}{check.name}: {check.detail}")
        if not check.ok and check.fix:
            lines.append(f"     fix: {check.fix}")
    verdict = {0: "all good", 1: "problems found", 2: "invalid settings"}[report.exit_status]
    lines.append(f"doctor: {verdict}")
    return "\n".join(lines)

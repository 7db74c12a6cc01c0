"""Every CLI command meets bad input the same way: one line saying what to do and a documented
exit code, never a traceback. The sweep walks the whole command table, so a new command must
say here how it is exercised."""

from __future__ import annotations

import argparse
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from flow_doubles import example_repo

from tandem.cli import build_parser, main

FAKE_MODELS = """
[models.strong]
provider = "fake"
model = "fake-model"
fake_replies = "fake_replies.json"

[models.cheap]
provider = "fake"
model = "fake-model"
fake_replies = "fake_replies.json"
"""
DOCUMENTED_EXIT_CODES = {0, 1, 2}
"""README, "Exit codes": 0 done, 1 could not do the job, 2 bad input (settings, files, ids)."""

Argv = Callable[[Path], list[str]]
SOURCE = ["--file", "app/permissions.py", "--lines", "1-3"]

# Each command's arguments with everything it reads pointing into the workspace (the repository).
IN_WORKSPACE: dict[str, Argv] = {
    "doctor": lambda ws: ["doctor", "--workspace", str(ws)],
    "report": lambda ws: ["report", "--workspace", str(ws)],
    "ledger note": lambda ws: [
        "ledger",
        "note",
        "t-1",
        "--cleanup-minutes",
        "3",
        "--workspace",
        str(ws),
    ],
    "slice": lambda ws: ["slice", "--repo", str(ws), *SOURCE, "--json"],
    "estimate": lambda ws: ["estimate", "--repo", str(ws), *SOURCE, "--request", "x"],
    "plan": lambda ws: ["plan", "--repo", str(ws), *SOURCE, "--request", "x"],
    "draft": lambda ws: ["draft", "t-1", "--repo", str(ws)],
    "review": lambda ws: ["review", "--repo", str(ws), "--task", "t-1"],
    "run": lambda ws: ["run", "--repo", str(ws), *SOURCE, "--request", "x", "--json"],
    "trial": lambda ws: ["trial", str(ws / "trial.toml"), "--workspace", str(ws)],
    "demo": lambda ws: ["demo", "--example", str(ws / "no-such-example")],
}
# Missing or unreadable files, and ids nobody issued.
BAD_ARGUMENTS: dict[str, list[Argv]] = {
    "serve": [lambda ws: ["serve", "--tcp", "localhost:notaport"]],
    "doctor": [lambda ws: ["doctor", "--config", str(ws / "missing.toml")]],
    "report": [
        lambda ws: ["report", "--workspace", str(ws), "--task", "no-such-task"],
        lambda ws: ["report", "--workspace", str(ws), "--trial", "no-such-trial"],
        lambda ws: ["report", "--ledger", str(ws / "app")],
        lambda ws: ["report", "--workspace", str(ws), "--html", str(ws / "no" / "dir" / "r.html")],
        lambda ws: ["report", "--workspace", str(ws), "--since", "yesterday"],
    ],
    "ledger note": [
        lambda ws: [
            "ledger",
            "note",
            "no-such-task",
            "--cleanup-minutes",
            "3",
            "--workspace",
            str(ws),
        ],
        lambda ws: ["ledger", "note", "t", "--cleanup-minutes", "-4", "--workspace", str(ws)],
    ],
    "slice": [
        lambda ws: ["slice", "--repo", str(ws), "--diff", str(ws / "missing.diff")],
        lambda ws: ["slice", "--repo", str(ws), "--file", "missing.py", "--lines", "1-2"],
        lambda ws: ["slice", "--repo", str(ws / "nowhere"), *SOURCE],
        lambda ws: ["slice", "--repo", str(ws), "--diff", str(ws / "binary.diff")],
        lambda ws: ["slice", "--repo", str(ws), "--working-tree", "--base", "no-such-rev"],
    ],
    "estimate": [
        lambda ws: ["estimate", "--repo", str(ws), "--diff", str(ws / "app"), "--request", "x"],
        lambda ws: [
            "estimate",
            "--repo",
            str(ws),
            *SOURCE,
            "--request",
            "x",
            "--config",
            str(ws / "missing.toml"),
        ],
    ],
    "plan": [
        lambda ws: ["plan", "--repo", str(ws), "--diff", str(ws / "missing.diff"), "--request", "x"]
    ],
    "draft": [
        lambda ws: ["draft", "no-such-task", "--repo", str(ws)],
        lambda ws: ["draft", "t", "--repo", str(ws), "--fake-replies", str(ws / "missing.json")],
    ],
    "review": [
        lambda ws: ["review", "--repo", str(ws), "--task", "no-such-task"],
        lambda ws: ["review", "--repo", str(ws), "--range", "nope..nada"],
        lambda ws: ["review", "--repo", str(ws), "--diff", str(ws / "missing.diff")],
    ],
    "run": [
        lambda ws: ["run", "--repo", str(ws), "--resume", "no-such-task"],
        lambda ws: [
            "run",
            "--repo",
            str(ws),
            *SOURCE,
            "--request",
            "x",
            "--fake-replies",
            str(ws / "missing.json"),
        ],
        lambda ws: [
            "run",
            "--repo",
            str(ws),
            *SOURCE,
            "--request",
            "x",
            "--fake-replies",
            str(ws / "binary.diff"),
        ],
    ],
    "trial": [
        lambda ws: ["trial", str(ws / "missing.toml")],
        lambda ws: ["trial", str(ws / "tandem.toml"), "--workspace", str(ws)],
        lambda ws: ["trial", str(ws / "app")],
    ],
    "demo": [lambda ws: ["demo", "--example", str(ws / "app" / "permissions.py")]],
}
NO_INPUT = {"version", "config schema", "serve"}
"""Commands that read no settings, file or id beyond what is listed in BAD_ARGUMENTS."""

BROKEN_SETTINGS = {
    "bad TOML": b"[models.strong\nprovider = \n",
    "wrong types": b'[context]\nbudget_tokens = "lots"\n[budgets]\nper_task_usd = [1]\n',
    "unknown model provider": b'[models.strong]\nprovider = "nope"\nmodel = "m"\n',
    "not UTF-8": b"[context]\nbudget_tokens = \xff\xfe\n",
}


def command_table() -> set[str]:
    """Every leaf command the parser offers, e.g. "doctor" or "ledger note"."""
    names: set[str] = set()

    def walk(parser: argparse.ArgumentParser, prefix: str) -> None:
        subactions = [
            action
            # argparse offers no public walk of its subcommands.
            for action in parser._actions
            if isinstance(action, argparse._SubParsersAction)
        ]
        if not subactions:
            names.add(prefix.strip())
        for action in subactions:
            for name, child in action.choices.items():
                walk(child, f"{prefix} {name}")

    walk(build_parser(), "")
    return names


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = example_repo(tmp_path)
    (ws / "tandem.toml").write_text(FAKE_MODELS, encoding="utf-8")
    (ws / "binary.diff").write_bytes(b"\x00\xff\xfe binary \x00" * 64)
    subprocess.run(["git", "init", "-q"], cwd=ws, check=True)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "add", "."], cwd=ws, check=True)
    subprocess.run([*git, "commit", "-qm", "example"], cwd=ws, check=True)
    return ws


def run_swept(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run one command in-process and check it met its input as every command must."""
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse's own usage errors
        code = exit_.code if isinstance(exit_.code, int) else 1
    captured = capsys.readouterr()
    assert_one_clear_line(argv, code, captured.out, captured.err)
    return code, captured.out, captured.err


def assert_one_clear_line(argv: list[str], code: int, out: str, err: str) -> None:
    shown = " ".join(argv)
    assert "Traceback" not in out + err, f"{shown}: traceback\n{err}"
    assert code in DOCUMENTED_EXIT_CODES, f"{shown}: undocumented exit code {code}"
    if code == 0:
        return
    if argv[0] == "doctor":  # a diagnosis: each problem on stdout with its fix
        assert "fix:" in out, f"{shown}: exit {code} without a fix\n{out}"
        return
    lines = [line for line in err.splitlines() if line.strip()]
    if lines and lines[0].startswith("usage:"):  # argparse: its usage, then one error line
        lines = [line for line in lines if not line.startswith(("usage:", " "))]
    assert lines, f"{shown}: exit {code} without saying why\n{out}"
    # Progress and warnings come before the problem, each its own "tandem" line; nothing spills
    # over several lines (a traceback, a tool's multi-line advice).
    strays = [line for line in lines if not line.startswith("tandem")]
    assert not strays, f"{shown}: the message spills over several lines\n{err}"


def test_every_command_in_the_table_is_swept() -> None:
    swept = set(IN_WORKSPACE) | set(BAD_ARGUMENTS) | NO_INPUT
    assert command_table() <= swept, f"add to the sweep: {sorted(command_table() - swept)}"


@pytest.mark.parametrize("command", sorted(IN_WORKSPACE))
@pytest.mark.parametrize("broken", sorted(BROKEN_SETTINGS))
def test_broken_settings_are_one_line_and_exit_2(
    command: str, broken: str, workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workspace / "tandem.toml").write_bytes(BROKEN_SETTINGS[broken])
    argv = IN_WORKSPACE[command](workspace)
    code, out, err = run_swept(argv, capsys)
    if command not in ("demo",):  # the demo brings its own settings
        assert code == 2, f"{' '.join(argv)}: exit {code}\n{err}{out}"


@pytest.mark.parametrize("command", sorted(IN_WORKSPACE))
def test_settings_that_are_a_folder_are_met_with_one_line_never_a_traceback(
    command: str, workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workspace / "tandem.toml").unlink()
    (workspace / "tandem.toml").mkdir()
    run_swept(IN_WORKSPACE[command](workspace), capsys)


@pytest.mark.parametrize(
    ("command", "case"),
    [(command, index) for command, cases in BAD_ARGUMENTS.items() for index in range(len(cases))],
)
def test_missing_files_and_unknown_ids_are_one_line_and_never_a_traceback(
    command: str, case: int, workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = BAD_ARGUMENTS[command][case](workspace)
    code, out, _err = run_swept(argv, capsys)
    assert code != 0, f"{' '.join(argv)} said nothing was wrong\n{out}"

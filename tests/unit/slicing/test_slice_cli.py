"""``tandem slice``: the JSON contract, pinned per language by golden files, and its errors.

Regenerate the goldens after an intended change with ``TANDEM_UPDATE_GOLDENS=1 pytest
tests/unit/slicing/test_slice_cli.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from slice_repos import GO_REPO, JAVA_REPO, PYTHON_REPO, RUST_REPO, TS_REPO, RepoBuilder

from tandem.cli import main

GOLDENS = Path(__file__).resolve().parents[2] / "fixtures" / "slicing"

CASES = {
    "python_method": (PYTHON_REPO, "pkg/shapes.py", "20-20"),
    "typescript_method": (TS_REPO, "src/cart.ts", "10-10"),
    "tsx_component": (TS_REPO, "src/Button.tsx", "2-2"),
    "javascript_function": (TS_REPO, "lib/util.js", "3-3"),
    "go_function": (GO_REPO, "server/client.go", "10-10"),
    "rust_impl_method": (RUST_REPO, "src/parser.rs", "12-12"),
    "java_method": (JAVA_REPO, "src/main/java/com/acme/Invoice.java", "14-14"),
}


def run_slice(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["slice", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def slice_json(capsys: pytest.CaptureFixture[str], repo: Path, *args: str) -> dict[str, Any]:
    code, out, err = run_slice(capsys, "--repo", str(repo), *args, "--json")
    assert code == 0, err
    parsed: dict[str, Any] = json.loads(out)
    return parsed


@pytest.mark.parametrize("case", sorted(CASES))
def test_slices_match_their_golden_json(
    case: str, make_repo: RepoBuilder, capsys: pytest.CaptureFixture[str]
) -> None:
    files, path, lines = CASES[case]
    result = slice_json(capsys, make_repo(files), "--file", path, "--lines", lines)
    golden = GOLDENS / f"{case}.json"
    if os.environ.get("TANDEM_UPDATE_GOLDENS") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    assert golden.is_file(), f"no golden {golden}; run with TANDEM_UPDATE_GOLDENS=1"
    assert result == json.loads(golden.read_text())


def test_the_json_has_exactly_the_documented_fields(
    make_repo: RepoBuilder, capsys: pytest.CaptureFixture[str]
) -> None:
    result = slice_json(capsys, make_repo(PYTHON_REPO), "--file", "pkg/shapes.py", "--lines", "20")
    assert set(result) == {
        "touched",
        "tests",
        "callees",
        "text",
        "tokens",
        "whole_file_tokens",
        "excluded",
        "warnings",
    }
    assert set(result["touched"][0]) == {
        "path",
        "name",
        "kind",
        "start_line",
        "end_line",
        "language",
    }
    assert set(result["tests"][0]) == {"path", "name", "start_line", "end_line", "score", "reason"}
    assert set(result["callees"][0]) == {"path", "name", "signature", "line"}
    assert isinstance(result["tokens"], int) and isinstance(result["whole_file_tokens"], int)


def test_a_diff_is_read_from_a_file_or_stdin(
    make_repo: RepoBuilder,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    import io

    repo = make_repo(GO_REPO)
    diff = (
        "--- a/server/client.go\n+++ b/server/client.go\n@@ -15,1 +15,1 @@\n"
        "-    return path\n+    return c.base + path\n"
    )
    patch = tmp_path / "change.diff"
    patch.write_text(diff)
    from_file = slice_json(capsys, repo, "--diff", str(patch))
    monkeypatch.setattr("sys.stdin", io.StringIO(diff))
    from_stdin = slice_json(capsys, repo, "--diff", "-")
    assert from_file == from_stdin
    assert [t["name"] for t in from_file["touched"]] == ["Client.Get"]


def test_without_json_the_text_is_printed_and_warnings_go_to_stderr(
    make_repo: RepoBuilder, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo({"broken.py": "def good():\n    return 1\n\ndef bad(:\n"})
    code, out, err = run_slice(
        capsys, "--repo", str(repo), "--file", "broken.py", "--lines", "2", "--budget", "300"
    )
    assert code == 0
    assert out.startswith("## Touched code\n\n--- broken.py:1-2 good  (function)\n1\tdef good():")
    assert "tandem slice: warning: broken.py: syntax errors; slicing what parses" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--file", "pkg/shapes.py"], "--file needs --lines A-B"),
        (["--file", "pkg/shapes.py", "--lines", "9-3"], "end before start"),
        (["--file", "pkg/shapes.py", "--lines", "3", "--budget", "0"], "--budget must be"),
        (["--diff", "/no/such.diff"], "cannot read --diff /no/such.diff"),
        (["--working-tree"], "is not a git repository"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(
    make_repo: RepoBuilder, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run_slice(capsys, "--repo", str(make_repo(PYTHON_REPO)), *args)
    assert code == 2
    assert out == ""
    assert message in err


def test_a_slice_is_the_same_whatever_the_process_hash_seed(make_repo: RepoBuilder) -> None:
    import subprocess
    import sys

    repo = make_repo({**PYTHON_REPO, **TS_REPO, **GO_REPO, **RUST_REPO, **JAVA_REPO})
    server = Path(__file__).resolve().parents[3] / "server"
    TANDEM = (sys.executable, "-m", "tandem")
    outputs = set()
    for seed in ("1", "2", "3"):
        for path, lines in (("src/main/java/com/acme/Invoice.java", "14"), ("src/cart.ts", "10")):
            done = subprocess.run(
                [*TANDEM, "slice", "--repo", str(repo), "--file", path, "--lines", lines, "--json"],
                env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(server)},
                capture_output=True,
                text=True,
                check=True,
            )
            outputs.add((path, done.stdout))
    assert len(outputs) == 2


def test_a_slice_process_pauses_the_collector_and_a_caller_of_main_keeps_it(
    make_repo: RepoBuilder, capsys: pytest.CaptureFixture[str]
) -> None:
    import gc
    import subprocess
    import sys

    repo = make_repo(PYTHON_REPO)
    args = ["slice", "--repo", str(repo), "--file", "pkg/shapes.py", "--lines", "20", "--json"]
    # The process's own command line (argv None): paused while slicing, frozen on the way out.
    probe = (
        "import gc, sys\n"
        "from tandem.cli import main\n"
        "seen = []\n"
        "import tandem.commands.slice_cmd as cmd\n"
        "run = cmd.run\n"
        "cmd.run = lambda a: (seen.append(gc.isenabled()), run(a))[1]\n"
        f"sys.argv = ['tandem', *{args!r}]\n"
        "code = main()\n"
        "print(code, seen, gc.isenabled(), gc.get_freeze_count() > 0, file=sys.stderr)\n"
    )
    server = Path(__file__).resolve().parents[3] / "server"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "PYTHONPATH": str(server)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stderr.split() == ["0", "[False]", "True", "True"]
    assert json.loads(done.stdout)["touched"]
    # Called with arguments (a test, an embedding program): the collector is left alone.
    frozen = gc.get_freeze_count()
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["touched"]
    assert gc.isenabled() and gc.get_freeze_count() == frozen

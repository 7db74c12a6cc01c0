"""The Neovim plugin in a real headless Neovim 0.10, against a real ``tandem serve``.

Each test starts ``nvim --headless`` with ``editors/nvim/tests/minimal_init.lua`` (only the
plugin on the runtimepath) and ``editors/nvim/tests/driver.lua`` (a scenario that drives the
editor and writes what it saw as JSON), on a scratch git copy of ``examples/projects_api``.
The server runs from this checkout (``PYTHONPATH=server``). Neovim comes from
``tools/install_nvim.sh .cache/nvim`` (``.ci/run`` installs it); these tests do not download it
and skip, saying how to install it, when it is missing.
"""

from __future__ import annotations

import copy
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
    if found is None and os.environ.get("TANDEM_NVIM_REQUIRED") == "1":
        pytest.fail("TANDEM_NVIM_REQUIRED=1 (.ci/run installed Neovim) but no Neovim 0.10+ found")
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


def make_workspace(parent: Path) -> Path:
    """A git copy of the example (so "changes since HEAD" means the draft's changes)."""
    repo = parent / "projects_api"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns("__pycache__", ".tandem"))
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "example")
    return repo


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return make_workspace(tmp_path)


FAKE_SETTINGS = """\
# Every model alias is the FAKE provider replaying the example's hand-written replies.
[models.strong]
provider = "fake"
model = "fake-model"
fake_replies = "fake_replies.json"

[models.cheap]
provider = "fake"
model = "fake-model"
fake_replies = "fake_replies.json"
"""
REQUEST = "add an optional archived filter to GET /projects"
FAKE_REPLIES = json.loads((EXAMPLE / "fake_replies.json").read_text())


@pytest.fixture
def fake_workspace(workspace: Path) -> Path:
    """The example configured with the fake provider (committed, so HEAD is the original)."""
    (workspace / "tandem.toml").write_text(FAKE_SETTINGS)
    _git(workspace, "add", "tandem.toml")
    _git(workspace, "commit", "-q", "-m", "fake provider")
    return workspace


def nvim_env(
    out: Path, scenario: str, cmd: list[str] | None = None, **extra: str
) -> dict[str, str]:
    env = {
        **os.environ,
        "TANDEM_TEST_CMD": json.dumps(cmd or SERVER_CMD),
        "TANDEM_TEST_ENV": json.dumps({"PYTHONPATH": str(REPO / "server")}),
        "TANDEM_TEST_SCENARIO": scenario,
        "TANDEM_TEST_OUT": str(out),
        "TANDEM_TEST_REQUEST": REQUEST,
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


@pytest.fixture(scope="module")
def started(nvim: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """One start-up scenario, shared: (workspace, what Neovim saw)."""
    workspace = make_workspace(tmp_path_factory.mktemp("startup"))
    return workspace, run_scenario(nvim, workspace, "startup")


def test_plugin_starts_the_server_at_the_workspace_root_and_adds_the_commands(
    started: tuple[Path, dict[str, Any]],
) -> None:
    workspace, seen = started
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
    # The server's commands the plugin's user commands call (LSP_CONTRACT.md).
    assert {"tandem.plan", "tandem.draft", "tandem.review"} <= set(seen["server_commands"])


def test_checkhealth_reports_neovim_the_server_version_doctor_and_the_client(
    started: tuple[Path, dict[str, Any]],
) -> None:
    workspace, seen = started
    health = seen["health"]
    assert re.search(r"OK Neovim 0\.1\d\.\d+", health)
    assert f"OK version: tandem {__version__}" in health
    assert f"doctor --workspace {workspace}" in health
    assert "OK grammar tree_sitter_python: loaded" in health
    assert f"running: tandem {__version__}, root {workspace}" in health


def test_help_file_has_every_tag_it_promises(started: tuple[Path, dict[str, Any]]) -> None:
    help_found = started[1]["help"]
    assert help_found and all(help_found.values()), help_found


def test_bad_options_name_the_option_and_roots_follow_the_markers(
    nvim: str, workspace: Path
) -> None:
    (workspace / "service" / "app").mkdir(parents=True)
    (workspace / "service" / "tandem.toml").write_text("")
    (workspace / "service" / "pyproject.toml").write_text("")
    (workspace / "lib" / "pkg").mkdir(parents=True)
    (workspace / "lib" / "pyproject.toml").write_text("")
    seen = run_scenario(nvim, workspace, "options")
    assert "option `cmd` must be a table, got string" in seen["errors"][0]
    assert "`cmd` must be a non-empty list of strings" in seen["errors"][1]
    assert "option `plan_window` must be" in seen["errors"][2]
    assert "option `confirm_edits` must be a boolean, got string" in seen["errors"][3]
    assert seen["roots"] == {
        "app/handlers.py": str(workspace),
        "service/app/main.py": str(workspace / "service"),
        "lib/pkg/mod.py": str(workspace / "lib"),
        ".tandem/tasks/t1/plan.md": str(workspace),
    }


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


def replaced_unit(text: str, name: str, code: str) -> str:
    """``text`` with the top-level function ``name`` replaced by ``code``."""
    start = text.index(f"def {name}(")
    end = text.index("\n\n\n", start) + 1
    return text[:start] + code + text[end:]


def test_plan_draft_review_in_neovim(nvim: str, fake_workspace: Path) -> None:
    seen = run_scenario(nvim, fake_workspace, "flow")
    assert seen["prompts"] == ["Tandem: what should change? "]

    plan = seen["plan"]["result"]
    plan_path = Path(plan["plan_uri"].removeprefix("file://"))
    assert plan_path.parent.parent == fake_workspace / ".tandem" / "tasks"
    assert plan_path.name == "plan.md" and plan_path.parent.name == plan["task_id"]
    assert seen["plan_text"].startswith("# Plan")
    assert FAKE_REPLIES["plan"][0]["summary"] in seen["plan_text"]
    assert seen["plan_buffer_attached"] is True  # the server drafts from the buffer
    assert seen["code_visible_beside_plan"] is True

    assert seen["draft"]["result"]["applied"] is True
    [asked] = seen["selects"]  # the draft, confirmed once ("Apply")
    assert asked["items"] == ["Apply", "Cancel"] and asked["kind"] == "tandem.applyEdit"
    drafted = {edit["target"]: edit["code"] for edit in FAKE_REPLIES["draft"][0]["edits"]}
    original = (EXAMPLE / "app" / "handlers.py").read_text()
    expected = replaced_unit(original, "get_projects", drafted["app/handlers.py::get_projects"])
    assert seen["after_draft"] == expected.rstrip("\n")
    buffers = seen["drafted_buffers"]
    queries = buffers[str(fake_workspace / "app" / "queries.py")]
    assert drafted["app/queries.py::list_projects"].rstrip("\n") in queries
    tests = buffers[str(fake_workspace / "tests" / "test_handlers.py")]
    assert "def test_get_projects_archived_true_returns_only_archived_projects" in tests

    review = seen["review"]["result"]
    findings = FAKE_REPLIES["review"][0]["findings"]
    assert review["verdict"] == FAKE_REPLIES["review"][0]["verdict"]
    assert review["findings"] == len(findings)
    severity = {"blocking": 1, "major": 2, "minor": 3, "nit": 4}  # vim.diagnostic.severity
    expected_diagnostics = set()
    for finding in findings:
        path, _, line = finding["location"].partition(":")
        lnum = int(line) - 1 if line else 0
        expected_diagnostics.add(
            (str(fake_workspace / path), lnum, severity[finding["severity"]], finding["category"])
        )
    got = {(d["file"], d["lnum"], d["severity"], d["code"]) for d in seen["diagnostics"]}
    assert got == expected_diagnostics
    messages = " ".join(d["message"] for d in seen["diagnostics"])
    assert all(finding["message"] in messages for finding in findings)


def test_a_draft_is_applied_only_after_the_user_confirms_it(
    nvim: str, fake_workspace: Path
) -> None:
    seen = run_scenario(nvim, fake_workspace, "confirm")
    cancelled = seen["cancelled"]["result"]
    assert cancelled["applied"] is False
    assert cancelled["reason"].startswith("cancelled by the user")
    assert seen["after_cancel"] == seen["before"]
    assert seen["modified_after_cancel"] is False
    applied = seen["applied"]["result"]
    assert applied["applied"] is True
    assert 'archived = params.get("archived")' in seen["after_apply"]

    asked, again = seen["selects"]
    assert [asked["choice"], again["choice"]] == ["Cancel", "Apply"]
    assert asked["items"] == ["Apply", "Cancel"]
    # The summary: the label, how many edits in how many files, each file, each annotation.
    prompt = asked["prompt"].splitlines()
    files = sorted(
        {edit["target"].partition("::")[0] for edit in FAKE_REPLIES["draft"][0]["edits"]}
    )
    assert re.fullmatch(rf"Tandem draft: \d+ edits in {len(files)} files\. Apply\?", prompt[0])
    listed = [re.fullmatch(r"  (\S+) \((\d+) edits?\)", line) for line in prompt[1:]]
    assert [m.group(1) for m in listed if m] == files, prompt
    total = sum(int(m.group(2)) for m in listed if m)
    assert prompt[0].startswith(f"Tandem draft: {total} edits"), prompt
    described = [line for line in prompt if line.startswith("  - Tandem draft: ")]
    assert [line.split(": ")[1] for line in described] == files, prompt


def test_a_draft_that_patches_renames_and_deletes_is_applied_by_neovim(
    nvim: str, fake_workspace: Path
) -> None:
    replies = copy.deepcopy(FAKE_REPLIES)
    replies["plan"][0]["scope"]["files"] += ["app/db.py", "app/store.py", "README.md"]
    old = "    archived = "
    assert old not in (fake_workspace / "app/handlers.py").read_text()
    replies["draft"][0]["edits"] = [
        {"kind": "patch", "target": "app/handlers.py::get_projects", "old": "    return 200, ",
         "new": "    archived = None\n    return 200, ", "reason": "step 1"},
        {"kind": "rename_file", "target": "app/db.py", "old": None, "new": "app/store.py",
         "reason": "step 2"},
        {"kind": "delete_file", "target": "README.md", "old": None, "new": "", "reason": "step 3"},
    ]  # fmt: skip
    (fake_workspace / "fake_replies.json").write_text(json.dumps(replies))
    db = (fake_workspace / "app/db.py").read_text()
    seen = run_scenario(nvim, fake_workspace, "kinds")
    assert seen["draft"]["result"]["applied"] is True, seen["draft"]
    assert "    archived = None\n    return 200, {" in seen["after_draft"]
    assert seen["exists"] == {"app/db.py": False, "app/store.py": True, "README.md": False}
    assert (fake_workspace / "app/store.py").read_text() == db
    prompt = seen["selects"][0]["prompt"]
    assert "app/db.py → app/store.py: step 2" in prompt and "README.md (deleted): step 3" in prompt


def test_confirm_edits_false_applies_a_draft_without_asking(
    nvim: str, fake_workspace: Path
) -> None:
    seen = run_scenario(nvim, fake_workspace, "confirm", TANDEM_TEST_CONFIRM_EDITS="false")
    assert seen["selects"] == []
    assert seen["cancelled"]["result"]["applied"] is True  # "Cancel" was queued, never asked
    assert 'archived = params.get("archived")' in seen["after_cancel"]


def test_plan_code_action_asks_for_the_request_in_neovim(nvim: str, fake_workspace: Path) -> None:
    seen = run_scenario(nvim, fake_workspace, "code_action")
    assert seen["prompts"] == ["Tandem: what should change? "] * 2
    assert seen["plans_after_cancel"] == 0  # <Esc>: nothing was sent
    messages = [note["message"] for note in seen["notifications"]]
    assert "Tandem: cancelled: no change request given" in messages
    assert seen["plan"]["result"]["task_id"]
    task = fake_workspace / ".tandem" / "tasks" / seen["plan"]["result"]["task_id"]
    assert REQUEST in "".join(p.read_text() for p in task.iterdir() if p.is_file())


def test_estimate_report_and_statusline_in_neovim(nvim: str, fake_workspace: Path) -> None:
    seen = run_scenario(nvim, fake_workspace, "preview")
    assert {"tandem.estimate", "tandem.showReport", "tandem.status"} <= set(seen["server_commands"])
    estimate = seen["estimate"]["result"]
    assert seen["float_text"].strip() == estimate["markdown"].strip()
    assert "$" in seen["float_text"]
    assert seen["report"]["result"]["uri"].endswith("/.tandem/report.md")
    assert (
        seen["report_text"].strip()
        == (fake_workspace / ".tandem" / "report.md").read_text().strip()
    )
    assert re.fullmatch(r"Tandem \$\d+\.\d{4} today( · .*)?", seen["statusline"])


# The screenshot: Neovim in a pseudo-terminal, its screen emulated by pyte, drawn with Pillow.

SCREEN_COLUMNS, SCREEN_LINES = 160, 40
CELL_W, CELL_H, FONT_SIZE = 9, 18, 15
DEFAULT_FG, DEFAULT_BG = "e0e2ea", "14161b"  # Neovim 0.10's default colour scheme
ANSI_COLOURS = {
    "black": "000000",
    "red": "cd3131",
    "green": "0dbc79",
    "brown": "e5e510",
    "blue": "2472c8",
    "magenta": "bc3fbc",
    "cyan": "11a8cd",
    "white": "e5e5e5",
    "brightblack": "666666",
    "brightred": "f14c4c",
    "brightgreen": "23d18b",
    "brightbrown": "f5f543",
    "brightblue": "3b8eea",
    "brightmagenta": "d670d6",
    "brightcyan": "29b8db",
    "brightwhite": "ffffff",
}
MONO_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")


def _rgb(colour: str, default: str) -> str:
    if colour == "default":
        colour = default
    colour = ANSI_COLOURS.get(colour, colour)
    return "#" + colour if re.fullmatch(r"[0-9a-fA-F]{6}", colour) else "#" + default


def run_in_terminal(
    server_args: list[str], cwd: Path, env: dict[str, str], ready: Path, expected: list[str]
) -> Any:
    """Runs ``server_args`` (a headless Neovim) with a real terminal UI attached on a pty
    (``nvim --remote-ui``) until ``ready`` exists, the screen shows every ``expected`` text and
    it has settled; returns pyte's screen.

    The UI is a separate client because the wrapper from install_nvim.sh cannot re-launch
    itself, which Neovim's built-in TUI does to start its embedded server.
    """
    import fcntl
    import pty
    import select
    import struct
    import tempfile
    import termios
    import time

    import pyte

    socket_dir = Path(tempfile.mkdtemp(prefix="tandem-nvim-"))  # short: unix socket paths
    socket = socket_dir / "nvim.sock"
    server = subprocess.Popen(
        [server_args[0], "--headless", "--listen", str(socket), *server_args[1:]],
        cwd=cwd,
        env={**env, "TANDEM_TEST_WAIT_UI": "1"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    screen = pyte.Screen(SCREEN_COLUMNS, SCREEN_LINES)
    stream = pyte.ByteStream(screen)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SCREEN_LINES, SCREEN_COLUMNS, 0, 0))
    deadline = time.monotonic() + NVIM_TIMEOUT_S
    while not socket.exists() and time.monotonic() < deadline and server.poll() is None:
        time.sleep(0.05)
    ui = subprocess.Popen(
        [server_args[0], "--remote-ui", "--server", str(socket)],
        cwd=cwd,
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    settled_since: float | None = None
    try:
        while time.monotonic() < deadline:
            readable, _, _ = select.select([master], [], [], 0.1)
            if readable:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    break
                stream.feed(data)
                settled_since = None
            elif ready.exists() and all(text in "\n".join(screen.display) for text in expected):
                settled_since = settled_since or time.monotonic()
                if time.monotonic() - settled_since > 0.5:
                    return screen
            if ui.poll() is not None or server.poll() is not None:
                break
        raise AssertionError("nvim did not show what was expected:\n" + "\n".join(screen.display))
    finally:
        for proc in (ui, server):
            if proc.poll() is None:
                proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        os.close(master)
        shutil.rmtree(socket_dir, ignore_errors=True)


def render_screen(screen: Any, path: Path) -> None:
    """Draws pyte's cells (colours, bold, reverse video) into a PNG."""
    from PIL import Image, ImageDraw, ImageFont

    font = (
        ImageFont.truetype(str(MONO_FONT), FONT_SIZE)
        if MONO_FONT.is_file()
        else ImageFont.load_default(FONT_SIZE)
    )
    bold = (
        ImageFont.truetype(str(MONO_FONT.with_name("DejaVuSansMono-Bold.ttf")), FONT_SIZE)
        if MONO_FONT.with_name("DejaVuSansMono-Bold.ttf").is_file()
        else font
    )
    # A few pixels below the last row, for its descenders.
    size = (SCREEN_COLUMNS * CELL_W, SCREEN_LINES * CELL_H + 4)
    image = Image.new("RGB", size, "#" + DEFAULT_BG)
    draw = ImageDraw.Draw(image)
    cells = [
        (x, y, screen.buffer[y][x]) for y in range(screen.lines) for x in range(screen.columns)
    ]
    colours = {}
    for x, y, char in cells:
        fg, bg = _rgb(char.fg, DEFAULT_FG), _rgb(char.bg, DEFAULT_BG)
        colours[x, y] = (bg, fg) if char.reverse else (fg, bg)
        left, top = x * CELL_W, y * CELL_H
        draw.rectangle([left, top, left + CELL_W - 1, top + CELL_H - 1], fill=colours[x, y][1])
    # Text after every background, so descenders (underscores) are not painted over.
    for x, y, char in cells:
        if char.data.strip():
            draw.text(
                (x * CELL_W, y * CELL_H + 1),
                char.data,
                fill=colours[x, y][0],
                font=bold if char.bold else font,
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, optimize=True)


SCREENSHOT = REPO / "docs" / "img" / "nvim.png"


def test_screenshot_of_neovim_for_the_readme(
    nvim: str, fake_workspace: Path, tmp_path: Path
) -> None:
    """The README's picture, taken from a real Neovim on a terminal; written to docs/img/nvim.png
    only with TANDEM_UPDATE_SCREENSHOTS=1, so ordinary runs leave the checkout untouched."""
    scenario = "flow"
    ready = tmp_path / "ready"
    out = tmp_path / f"{scenario}.json"
    env = nvim_env(out, scenario, TANDEM_TEST_READY=str(ready), TERM="xterm-256color")
    env["COLORTERM"] = "truecolor"
    args = [nvim, "-u", str(MINIMAL_INIT), "app/handlers.py", "-c", f"luafile {DRIVER}"]
    expected = [
        'archived = params.get("archived")',  # the draft, applied
        "# Plan",  # the plan beside it
        "Suggested change: Accept exactly `true` and `false`",  # the finding, opened
        "review: request_changes, 3 findings",  # the message
    ]
    screen = run_in_terminal(args, fake_workspace, env, ready, expected)
    png = tmp_path / "nvim.png"
    render_screen(screen, png)
    assert png.stat().st_size > 10_000
    if os.environ.get("TANDEM_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(png, SCREENSHOT)


RATING_PROMPT = re.compile(r"Tandem: how good was the draft of task (\S+)\? \(5 = ready to merge\)")
MINUTES_PROMPT = "Tandem: minutes you spent cleaning it up?"


def ledger_rows(workspace: Path, sql: str) -> list[tuple[Any, ...]]:
    import sqlite3

    db = sqlite3.connect(workspace / ".tandem" / "ledger.sqlite")
    try:
        return list(db.execute(sql))
    finally:
        db.close()


def ratings(workspace: Path) -> list[tuple[Any, ...]]:
    """(task, rating) and (task, cleanup minutes) as the ledger recorded them."""
    rated = "SELECT task_id, rating FROM task_events WHERE rating IS NOT NULL"
    noted = "SELECT task_id, cleanup_minutes FROM task_notes"
    return ledger_rows(workspace, rated) + ledger_rows(workspace, noted)


def prompts_of(seen: dict[str, Any]) -> list[tuple[str, str]]:
    """(what was asked, what the user picked), the draft's confirmation shown as "confirm"."""
    return [
        ("confirm" if s["prompt"].startswith("Tandem draft:") else s["prompt"], s["choice"])
        for s in seen["selects"]
    ]


def rate(nvim: str, workspace: Path, choices: str, **extra: str) -> dict[str, Any]:
    """The rating scenario with the prompt on, the user picking ``choices`` in turn."""
    extra |= {"TANDEM_TEST_ASK_RATING": "true", "TANDEM_TEST_CHOICES": choices}
    return run_scenario(nvim, workspace, "rating", **extra)


def test_an_applied_draft_asks_once_for_a_rating_and_the_ledger_has_it(
    nvim: str, fake_workspace: Path
) -> None:
    seen = rate(nvim, fake_workspace, "4,15", TANDEM_TEST_CONFIRM_EDITS="false")
    task = seen["task_id"]
    assert seen["draft"]["result"]["applied"] is True
    assert 'archived = params.get("archived")' in seen["after"]
    asked = prompts_of(seen)
    assert asked == [(asked[0][0], "4"), (MINUTES_PROMPT, "15")]
    match = RATING_PROMPT.fullmatch(asked[0][0])
    assert match and match.group(1) == task
    items = [s["items"] for s in seen["selects"]]
    assert items == [["1", "2", "3", "4", "5"], ["0", "5", "15", "30", "60"]]
    assert seen["rated"]["result"] == {"task_id": task, "rating": 4, "cleanup_minutes": 15}
    assert ratings(fake_workspace) == [(task, 4), (task, 15)]
    assert any(f"rating recorded for task {task}" in n["message"] for n in seen["notifications"])


def test_a_discarded_draft_asks_for_the_rating_and_applying_it_later_does_not_ask_again(
    nvim: str, fake_workspace: Path
) -> None:
    seen = rate(nvim, fake_workspace, "Cancel,2,0,Apply")
    task = seen["task_id"]
    assert seen["draft"]["result"]["applied"] is False
    assert seen["reapplied"]["result"]["applied"] is True
    assert seen["reapplied"]["result"]["ask_rating"] is False
    assert 'archived = params.get("archived")' in seen["after"]
    asked = prompts_of(seen)
    assert [a[1] for a in asked] == ["Cancel", "2", "0", "Apply"]
    assert [a[0] for a in asked][2:] == [MINUTES_PROMPT, "confirm"]  # the second apply: no rating
    assert sum(1 for a in asked if RATING_PROMPT.fullmatch(a[0])) == 1
    assert ratings(fake_workspace) == [(task, 2), (task, 0)]


def test_with_the_rating_prompt_off_nothing_is_asked(nvim: str, fake_workspace: Path) -> None:
    seen = run_scenario(nvim, fake_workspace, "rating", TANDEM_TEST_CHOICES="Cancel,Apply")
    assert seen["draft"]["result"]["ask_rating"] is True  # the server would: the plugin does not
    assert prompts_of(seen) == [("confirm", "Cancel"), ("confirm", "Apply")]
    assert seen["reapplied"]["result"]["applied"] is True
    assert "rated" not in seen  # no tandem.rateTask was sent
    assert ratings(fake_workspace) == []

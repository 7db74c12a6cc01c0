"""Flow progress on stderr: a line per message; on a terminal, a call's running count is redrawn
in place on one line and settled before anything else is written."""

from __future__ import annotations

import io

from tandem.commands.flow_common import StderrProgress
from tandem.providers.base import LiveMessage


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_running_count_is_redrawn_on_one_line() -> None:
    screen = Terminal()
    progress = StderrProgress(screen)
    progress("plan (round 1) on strong: ~900 input tokens")
    progress(LiveMessage("plan: 10 tokens received, 1.0 s"))
    progress(LiveMessage("plan: 25 tokens received, 2.0 s"))
    progress("draft (round 1) on cheap: ~1200 input tokens")
    assert screen.getvalue() == (
        "tandem: plan (round 1) on strong: ~900 input tokens\n"
        "\r\x1b[Ktandem: plan: 10 tokens received, 1.0 s"
        "\r\x1b[Ktandem: plan: 25 tokens received, 2.0 s\n"
        "tandem: draft (round 1) on cheap: ~1200 input tokens\n"
    )


def test_settling_ends_the_redrawn_line_once_and_keeps_its_last_count() -> None:
    screen = Terminal()
    progress = StderrProgress(screen)
    progress(LiveMessage("review: 5 tokens received, 1.0 s"))
    progress.settle()
    progress.settle()
    assert screen.getvalue() == "\r\x1b[Ktandem: review: 5 tokens received, 1.0 s\n"


def test_into_a_file_or_pipe_every_message_is_its_own_line() -> None:
    log = io.StringIO()
    progress = StderrProgress(log)
    progress(LiveMessage("plan: 10 tokens received, 1.0 s"))
    progress(LiveMessage("plan: 25 tokens received, 2.0 s"))
    progress.settle()
    assert log.getvalue() == (
        "tandem: plan: 10 tokens received, 1.0 s\ntandem: plan: 25 tokens received, 2.0 s\n"
    )

"""Options and helpers shared by CLI commands: settings loading and error reporting."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from tandem.config import LoadedSettings

SETTINGS_ERROR_EXIT = 2


class SubParsers(Protocol):
    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser: ...


def add_settings_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="settings file (default: tandem.toml or [tool.tandem] in pyproject.toml)",
    )
    parser.add_argument(
        "--workspace",
        type=Path,
        default=Path.cwd(),
        metavar="DIR",
        help="workspace root whose settings file is read (default: current directory)",
    )


def load_cli_settings(args: argparse.Namespace) -> LoadedSettings | None:
    """Load settings; on any problem print each one to stderr and return None (exit 2)."""
    from tandem.config import load_settings

    config: Path | None = args.config
    if config is not None and not config.is_file():
        print(f"tandem: --config {config}: no such file", file=sys.stderr)
        return None
    loaded = load_settings(workspace=args.workspace, config_file=config)
    if loaded.problems:
        first, *others = loaded.problems
        more = f" (and {len(others)} more)" if others else ""
        print(
            f"tandem: invalid setting: {first}{more}; `tandem doctor` lists each with its fix",
            file=sys.stderr,
        )
        return None
    return loaded

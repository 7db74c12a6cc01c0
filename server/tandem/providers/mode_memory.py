"""Which structured-output mode worked for a server and model, remembered in the user's cache.

One small JSON file (``structured-output.json`` in :func:`~tandem.cost.vocab_cache.user_cache_dir`)
maps ``"<base_url> <model>"`` to the mode that last produced a reply there, so ``auto`` starts
from it next time instead of asking for a mode the server refuses. It holds no secrets (URLs and
model names only); a file that cannot be read or written is ignored: the memory is a shortcut,
never needed for a call to work.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from tandem.cost.vocab_cache import user_cache_dir
from tandem.providers.dialects import MODES, StructuredMode

FILE_NAME = "structured-output.json"


def memory_file() -> Path:
    return user_cache_dir() / FILE_NAME


def _key(base_url: str, model: str) -> str:
    return f"{base_url.rstrip('/')} {model}"


def _load(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def recalled_mode(base_url: str, model: str) -> StructuredMode | None:
    """The mode remembered for this server and model, if any."""
    value = _load(memory_file()).get(_key(base_url, model))
    for mode in MODES:
        if mode == value:
            return mode
    return None


def remember_mode(base_url: str, model: str, mode: StructuredMode) -> Path | None:
    """Remember ``mode`` for this server and model; the file written, or None if it could not be."""
    path = memory_file()
    data = _load(path)
    if data.get(_key(base_url, model)) == mode:
        return path
    data[_key(base_url, model)] = mode
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".structured-output-")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=1, sort_keys=True)
        Path(temporary).replace(path)
    except OSError:
        return None
    return path

"""Context slicing: the touched code units plus their related tests, parsed with tree-sitter.

``slice_repository`` and ``SliceError`` are loaded on first access, so importing this package
loads no grammar.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tandem.slicing.result import SliceError
    from tandem.slicing.slicer import slice_repository

__all__ = ["SliceError", "slice_repository"]


def __getattr__(name: str) -> Any:
    if name == "SliceError":
        from tandem.slicing import result

        return result.SliceError
    if name == "slice_repository":
        from tandem.slicing import slicer

        return slicer.slice_repository
    raise AttributeError(f"module 'tandem.slicing' has no attribute {name!r}")

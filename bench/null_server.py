"""A pygls server that does no work: the baseline the editor benchmarks compare Tandem with.

It answers ``initialize`` and keeps documents in sync as pygls does by default, answers every
hover with nothing and every code action request with an empty list. Started like Tandem
(``python bench/null_server.py``, same environment), so the difference is Tandem's own work.
"""

from __future__ import annotations

from lsprotocol import types
from pygls.lsp.server import LanguageServer

server = LanguageServer("null-server", "0")


@server.feature(types.TEXT_DOCUMENT_HOVER)
def hover(ls: LanguageServer, params: types.HoverParams) -> types.Hover | None:
    ls.workspace.get_text_document(params.text_document.uri)
    return None


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION)
def code_action(ls: LanguageServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    ls.workspace.get_text_document(params.text_document.uri)
    return []


if __name__ == "__main__":
    server.start_io()

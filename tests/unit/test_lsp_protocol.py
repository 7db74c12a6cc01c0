"""What the server answers to malformed JSON-RPC, fed body by body to an in-process protocol."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcRequestCancelled
from server_wire import URI, Wire

from tandem.lsp import documents
from tandem.lsp.app import ClientLogHandler, create_server
from tandem.lsp.messages import top_level_id
from tandem.lsp.server import TandemServer


@pytest.fixture
def wire() -> Wire:
    wire = Wire()
    wire.initialize()
    return wire


def error_code(reply: dict[str, Any]) -> int:
    code: int = reply["error"]["code"]
    return code


def test_ping_answers_ok(wire: Wire) -> None:
    assert wire.request(2, "tandem/ping")["result"] == {"ok": True}


@pytest.mark.parametrize("body", [b"{not json", b"", b"[" * 100_000, b'{"id": 1, "method": '])
def test_a_body_that_is_not_json_gets_a_parse_error_with_a_null_id(wire: Wire, body: bytes) -> None:
    wire.send(body)
    assert error_code(wire.reply(None)) == -32700
    assert wire.request(2, "tandem/ping")["result"] == {"ok": True}


@pytest.mark.parametrize(
    "message", [[{"jsonrpc": "2.0", "id": 5, "method": "tandem/ping"}], 42, "x"]
)
def test_a_batch_or_a_non_object_gets_invalid_request(wire: Wire, message: Any) -> None:
    wire.send(message)
    assert error_code(wire.reply(None)) == -32600
    assert not [m for m in wire.received if m.get("id") == 5]


@pytest.mark.parametrize(
    "message",
    [
        {"jsonrpc": "2.0", "id": 3, "method": 7},
        {"jsonrpc": "1.0", "id": 3, "method": "tandem/ping"},
        {"id": 3, "method": "tandem/ping"},
    ],
)
def test_a_request_without_a_valid_envelope_gets_invalid_request(
    wire: Wire, message: dict[str, Any]
) -> None:
    wire.send(message)
    assert error_code(wire.reply(3)) == -32600


def test_an_id_of_the_wrong_type_gets_invalid_request_with_a_null_id(wire: Wire) -> None:
    wire.send({"jsonrpc": "2.0", "id": {"a": 1}, "method": "tandem/ping"})
    assert error_code(wire.reply(None)) == -32600


def test_wrong_parameter_types_get_invalid_params_naming_the_field(wire: Wire) -> None:
    reply = wire.request(3, "textDocument/hover", {"textDocument": 5, "position": "x"})
    assert error_code(reply) == -32602
    assert "text_document" in reply["error"]["message"]
    assert "position" in reply["error"]["message"]


def test_a_request_to_an_unknown_method_gets_method_not_found_even_without_params(
    wire: Wire,
) -> None:
    wire.send({"jsonrpc": "2.0", "id": 4, "method": "tandem/noSuchThing"})
    assert error_code(wire.reply(4)) == -32601


def test_an_unknown_notification_gets_no_reply(wire: Wire) -> None:
    before = len(wire.received)
    wire.notify("tandem/noSuchThing", {"x": 1})
    wire.notify("$/noSuchThing", None)
    assert len(wire.received) == before


def test_requests_before_initialize_get_server_not_initialized_and_notifications_are_dropped() -> (
    None
):
    wire = Wire()
    assert error_code(wire.request(10, "tandem/ping")) == -32002
    assert error_code(wire.request(11, "shutdown")) == -32002
    wire.open("early = 1\n")
    wire.initialize()
    assert URI not in wire.server.workspace.text_documents


def test_a_second_initialize_is_refused_and_the_first_stands(wire: Wire) -> None:
    reply = wire.request(2, "initialize", {"capabilities": {}, "rootUri": "file:///elsewhere"})
    assert error_code(reply) == -32600
    assert wire.server.workspace.root_uri is None


def test_invalid_initialize_params_can_be_retried() -> None:
    wire = Wire()
    assert error_code(wire.request(1, "initialize", {"capabilities": 5})) == -32602
    assert "result" in wire.request(2, "initialize", {"capabilities": {}})


def test_requests_after_shutdown_are_refused(wire: Wire) -> None:
    assert wire.request(2, "shutdown")["result"] is None
    assert error_code(wire.request(3, "tandem/ping")) == -32600


def test_lone_surrogates_in_text_become_replacement_characters(wire: Wire) -> None:
    wire.open("a\ud800b\udfffc \U0001f600")
    assert wire.server.workspace.get_text_document(URI).source == "a\ufffdb\ufffdc \U0001f600"


def test_invalid_utf8_in_a_body_becomes_replacement_characters(wire: Wire) -> None:
    item = {"uri": URI, "languageId": "python", "version": 1, "text": "PLACEHOLDER"}
    body = json.dumps({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {}})
    body = body.replace("{}", json.dumps({"textDocument": item}))
    wire.send(body.encode().replace(b"PLACEHOLDER", b"x = '\xff\xfe'"))
    assert wire.server.workspace.get_text_document(URI).source == "x = '\ufffd\ufffd'"


def test_did_change_for_a_document_never_opened_is_ignored(wire: Wire) -> None:
    before = len(wire.received)
    change = {"textDocument": {"uri": URI, "version": 2}, "contentChanges": [{"text": "x"}]}
    wire.notify("textDocument/didChange", change)
    assert URI not in wire.server.workspace.text_documents
    assert len(wire.received) == before


def test_a_feature_that_exits_fails_only_its_own_request(wire: Wire) -> None:
    @wire.server.feature("test/exit")
    def leave(ls: TandemServer, params: Any) -> None:
        sys.exit(3)

    reply = wire.request(2, "test/exit")
    assert error_code(reply) == -32603 and "exit(3)" in reply["error"]["message"]
    assert wire.request(3, "tandem/ping")["result"] == {"ok": True}


def test_a_feature_that_raises_gets_an_internal_error_reply(wire: Wire) -> None:
    @wire.server.feature("test/raise")
    def fail(ls: TandemServer, params: Any) -> None:
        raise ValueError("broken feature")

    reply = wire.request(2, "test/raise")
    assert error_code(reply) == -32603 and "broken feature" in reply["error"]["message"]


def test_a_request_that_ends_cancelled_is_answered_without_a_traceback(
    wire: Wire, caplog: pytest.LogCaptureFixture
) -> None:
    @wire.server.feature("test/cancelled")
    def stop(ls: TandemServer, params: Any) -> None:
        raise JsonRpcRequestCancelled("Tandem: plan: cancelled by the user")

    with caplog.at_level(logging.DEBUG):
        reply = wire.request(2, "test/cancelled")
    assert error_code(reply) == JsonRpcRequestCancelled.CODE
    assert "cancelled by the user" in reply["error"]["message"]
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING]
    assert wire.request(3, "tandem/ping")["result"] == {"ok": True}


def test_a_result_that_cannot_be_serialised_becomes_an_error_reply(wire: Wire) -> None:
    @wire.server.feature("test/unserialisable")
    def odd(ls: TandemServer, params: Any) -> object:
        return {"value": {1, 2}}

    assert error_code(wire.request(2, "test/unserialisable")) == -32603


def test_a_malformed_reply_from_the_client_fails_the_waiting_request(wire: Wire) -> None:
    future = wire.server.protocol.send_request(
        types.WORKSPACE_APPLY_EDIT, types.ApplyWorkspaceEditParams(edit=types.WorkspaceEdit())
    )
    request = next(m for m in wire.received if m.get("method") == types.WORKSPACE_APPLY_EDIT)
    wire.send({"jsonrpc": "2.0", "id": request["id"], "result": [5]})
    assert isinstance(future.exception(timeout=1), JsonRpcException)


@pytest.mark.parametrize("params", [{"id": {"a": 1}}, {"id": [1]}, {"id": None}, {}, [], 5])
def test_a_cancel_request_with_a_bad_id_is_ignored(wire: Wire, params: Any) -> None:
    before = len(wire.received)
    wire.notify("$/cancelRequest", params)
    assert len(wire.received) == before
    assert wire.request(2, "tandem/ping")["result"] == {"ok": True}


# --- documents that are not open ------------------------------------------------------------------


def test_an_unopened_regular_file_is_read_with_invalid_utf8_replaced(
    wire: Wire, tmp_path: Path
) -> None:
    file = tmp_path / "module.py"
    file.write_bytes(b"x = '\xff'\n")
    assert wire.server.workspace.get_text_document(file.as_uri()).source == "x = '\ufffd'\n"


@pytest.mark.parametrize("make", ["device", "fifo", "directory", "missing", "nul"])
def test_an_unopened_path_that_is_not_a_regular_file_raises_oserror_without_reading(
    wire: Wire, tmp_path: Path, make: str
) -> None:
    uri = {
        "device": "file:///dev/zero",
        "directory": tmp_path.as_uri(),
        "missing": (tmp_path / "gone.py").as_uri(),
        "nul": tmp_path.as_uri() + "/bad%00name.py",
    }.get(make)
    if make == "fifo":
        os.mkfifo(tmp_path / "pipe")
        uri = (tmp_path / "pipe").as_uri()
    assert uri is not None
    with pytest.raises(OSError):
        _ = wire.server.workspace.get_text_document(uri).source


def test_an_unopened_file_over_the_limit_raises_oserror(
    wire: Wire, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(documents, "MAX_UNOPENED_BYTES", 10)
    file = tmp_path / "big.py"
    file.write_text("x" * 11)
    with pytest.raises(OSError, match="larger than 10 bytes"):
        _ = wire.server.workspace.get_text_document(file.as_uri()).source


def test_an_unopened_non_file_document_is_empty_not_a_relative_path(wire: Wire) -> None:
    assert wire.server.workspace.get_text_document("untitled:Untitled-1").source == ""


def test_an_open_document_is_the_editors_text_even_for_a_device_path(wire: Wire) -> None:
    item = {"uri": "file:///dev/zero", "languageId": "python", "version": 1, "text": "a = 1\n"}
    wire.notify("textDocument/didOpen", {"textDocument": item})
    assert wire.server.workspace.get_text_document("file:///dev/zero").source == "a = 1\n"


def test_a_broken_channel_is_reported_once_and_never_written_again() -> None:
    class BrokenPipe:
        writes = 0

        def write(self, data: bytes) -> None:
            BrokenPipe.writes += 1
            raise BrokenPipeError("client gone")

        def close(self) -> None:
            pass

    server = create_server(features=[])
    server.protocol.set_writer(BrokenPipe())
    try:
        server.protocol.handle_body(b"{not json")  # logs (forwarded to the client) and replies
        server.protocol.handle_body(b"{not json")
    finally:
        tandem_logger = logging.getLogger("tandem")
        for handler in list(tandem_logger.handlers):
            if isinstance(handler, ClientLogHandler) and handler.server is server:
                tandem_logger.removeHandler(handler)
    assert server.protocol.channel_broken and BrokenPipe.writes == 1


# --- any request gets exactly one reply ----------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=15,
)
# Every method lsprotocol knows (with a param shape to miss), ours, and made-up ones; not exit,
# which ends the process by design.
known_methods = sorted(m for m in types.METHOD_TO_TYPES if m != types.EXIT)
methods = st.sampled_from([*known_methods, "tandem/ping"]) | st.text(max_size=12)
shaped_params = st.fixed_dictionaries(
    {},
    optional={
        "textDocument": st.fixed_dictionaries(
            {}, optional={"uri": json_values, "version": json_values}
        ),
        "position": st.fixed_dictionaries(
            {}, optional={"line": json_values, "character": json_values}
        ),
        "capabilities": json_values,
        "command": json_values,
        "arguments": json_values,
        "id": json_values,
    },
)


@settings(max_examples=150, deadline=None)
@given(
    st.booleans(),
    methods,
    json_values | shaped_params,
    st.integers(min_value=1000) | st.text(min_size=1).map(lambda s: "x" + s),
)
def test_any_request_gets_exactly_one_reply_and_the_server_keeps_answering(
    initialize_first: bool, method: str, params: Any, msg_id: int | str
) -> None:
    wire = Wire()
    if initialize_first:
        wire.initialize()
    wire.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
    assert len([m for m in wire.received if "method" not in m and m.get("id") == msg_id]) == 1
    answer = wire.request(999, "tandem/ping")
    assert "result" in answer or error_code(answer) in (-32002, -32600)  # before init / shut down


@settings(max_examples=150, deadline=None)
@given(json_values | st.lists(json_values) | shaped_params.map(lambda p: {"jsonrpc": "2.0", **p}))
def test_any_json_value_is_handled_without_raising(value: Any) -> None:
    wire = Wire()
    wire.initialize()
    wire.server.protocol.handle_data(value)
    assert wire.request(999, "tandem/ping")["result"] == {"ok": True}


def test_a_notification_sent_with_an_id_gets_invalid_request_and_is_not_applied(wire: Wire) -> None:
    item = {"uri": URI, "languageId": "python", "version": 1, "text": "x = 1\n"}
    reply = wire.request(5, "textDocument/didOpen", {"textDocument": item})
    assert error_code(reply) == -32600
    assert URI not in wire.server.workspace.text_documents


def test_a_request_nested_too_deeply_to_parse_gets_a_parse_error_with_its_own_id(
    wire: Wire,
) -> None:
    depth = 100_000
    body = b'{"jsonrpc": "2.0", "method": "textDocument/hover", "params": '
    body += b'{"a": ' * depth + b"1" + b"}" * depth + b', "id": "deep-7"}'
    wire.send(body)
    reply = wire.reply("deep-7")
    assert error_code(reply) == -32700
    assert "nested too deeply" in reply["error"]["message"]
    assert wire.request(2, "tandem/ping")["result"] == {"ok": True}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"id": 7, "params": [[[', 7),
        ('{"params": {"id": 3}, "id": "x"}', "x"),
        ('{"method": "id", "params": {"id": 3}}', None),
        ('{"note": "\\"id\\": 4", "id": 5}', 5),
        ('{"id": true}', None),
        ('{"id": ', None),
    ],
)
def test_the_top_level_id_is_read_without_recursion_and_only_at_the_top_level(
    text: str, expected: object
) -> None:
    assert top_level_id(text) == expected


async def test_answered_requests_leave_no_futures_behind(wire: Wire) -> None:
    # pygls files each inner step of its generator handlers (executeCommand, didChange...) under a
    # fresh id and never removed it: a leak of every task, its result or its error, per request.
    @wire.server.command("test.async")
    async def run(ls: TandemServer, *args: Any) -> str:
        return "ran"

    for number in range(10, 20):
        wire.send(
            {
                "jsonrpc": "2.0",
                "id": number,
                "method": "workspace/executeCommand",
                "params": {"command": "test.async"},
            }
        )
        for _ in range(5):
            await asyncio.sleep(0)
        assert wire.reply(number)["result"] == "ran"
    assert wire.server.protocol._request_futures == {}

"""Every place Tandem overrides pygls internals, each with the upstream behaviour it works around.

Written against pygls 2.1.1 (``PYGLS_VERSION``); ``tests/unit/test_lsp_pygls_pin.py`` fails when
another version is installed, so each override below is re-checked before the pin moves.

What pygls 2.1 does on its own, and is kept: a MethodNotFound reply to an unknown request, silence
for an unknown notification, an InternalError reply when a request handler raises.
What it gets wrong, and :class:`TandemProtocol` fixes (bodies come from ``tandem.lsp.transport``,
which replaces pygls' reader):

- a request whose parameters do not fit the method's type, or that has no ``params``, gets no
  reply at all, so the client waits forever: here it gets InvalidParams naming the bad field;
- bad JSON, invalid UTF-8, a batch or a non-object message is logged with a traceback and
  dropped: here it gets the JSON-RPC error reply (id null) and one log line;
- lone UTF-16 surrogates (``"\\ud800"``) reach documents and break every later encode: here they
  become U+FFFD on the way in;
- requests before ``initialize``, a second ``initialize`` and requests after ``shutdown`` reach the
  handlers: here they get the errors the LSP specification names;
- a document that is not open is read from whatever path its URI names, at any size: here only
  a regular file within a limit is read; and an open document is split into lines again on every
  read and change: here it keeps its lines (both in ``tandem.lsp.documents``, under this pin);
- ``didChange`` for a document never opened raises a KeyError shown as an error popup: here it is
  logged and ignored;
- a feature that calls ``sys.exit`` stops the whole server, and a result that cannot be serialised
  leaves the request unanswered: here both become an error reply to that one request, so a
  feature's failure stays its own (as in rust-analyzer);
- ``$/cancelRequest`` cancels the request's future but not the task running an async command:
  :func:`request_future` lets ``tandem.lsp.jobs`` link the two;
- a request that ends cancelled (``JsonRpcRequestCancelled``, the user's own choice) is logged
  with a full traceback as if it had failed: here it is one info line.

It also answers ``tandem/ping`` with ``{"ok": true}``, a liveness probe for tests and the fuzzer.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import logging
from collections.abc import Callable, Generator
from concurrent.futures import Future
from typing import Any
from urllib.parse import unquote

import cattrs
from lsprotocol import types
from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInternalError,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcParseError,
    JsonRpcRequestCancelled,
    JsonRpcServerNotInitialized,
)
from pygls.feature_manager import assign_thread_attr, is_thread_function
from pygls.protocol import LanguageServerProtocol, lsp_method
from pygls.protocol.json_rpc import (
    JsonRPCNotification,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
)

from tandem.lsp.documents import bound
from tandem.lsp.messages import (
    ESCAPED_SURROGATE,
    FeatureExited,
    has_id_field,
    message_id,
    top_level_id,
    valid_id,
    without_lone_surrogates,
)

log = logging.getLogger(__name__)

PING = "tandem/ping"
PYGLS_VERSION = "2.1.1"
"""The pygls release every override here was checked against."""


def _isolated(handler: Callable[..., Any]) -> Callable[..., Any]:
    """The handler, with ``SystemExit`` turned into an ordinary error of its own request.

    Works around: pygls lets ``SystemExit`` from a handler stop the whole server.
    """
    if inspect.isgeneratorfunction(handler):  # pygls' own lifecycle steps, ``exit`` among them
        return handler
    if asyncio.iscoroutinefunction(handler):

        async def run_coroutine(*args: Any, **kwargs: Any) -> Any:
            try:
                return await handler(*args, **kwargs)
            except SystemExit as exc:
                raise FeatureExited(f"a feature called exit({exc.code})") from None

        return run_coroutine

    @functools.wraps(handler)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except SystemExit as exc:
            raise FeatureExited(f"a feature called exit({exc.code})") from None

    if is_thread_function(handler):  # type: ignore[no-untyped-call]
        assign_thread_attr(run)  # type: ignore[no-untyped-call]
    return run


class TandemProtocol(LanguageServerProtocol):
    """pygls' language server protocol, hardened against whatever arrives on the wire."""

    initialize_received = False
    channel_broken = False

    # --- input ---------------------------------------------------------------------------------

    def handle_body(self, body: bytes) -> None:
        """One frame's body: decode, validate, dispatch. Never raises, except ``SystemExit``."""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = body.decode("utf-8", errors="replace")
            log.warning("a message was not valid UTF-8; its invalid bytes became U+FFFD")
        try:
            data = json.loads(text)
            if ESCAPED_SURROGATE.search(text):
                sent_id = data.get("id") if isinstance(data, dict) else None
                data = without_lone_surrogates(data)
                if sent_id is not None:
                    data["id"] = sent_id  # a reply must echo the id exactly as it was sent
        except RecursionError:
            # Nested deeper than the parser goes: a client still waits for the id it sent.
            log.warning("dropped a message nested too deeply to parse")
            self.reply_error(
                top_level_id(text), JsonRpcParseError("Parse error: nested too deeply to parse")
            )
            return
        except ValueError as error:
            log.warning("dropped a message that is not JSON: %s", error)
            self.reply_error(None, JsonRpcParseError(f"Parse error: {error}"))
            return
        self.handle_data(data)

    def handle_data(self, data: Any) -> None:
        """A parsed JSON value: check the JSON-RPC envelope and the lifecycle, then dispatch."""
        if isinstance(data, list):
            self.reply_error(None, JsonRpcInvalidRequest("Invalid request: LSP has no batches"))
            return
        if not isinstance(data, dict):
            self.reply_error(None, JsonRpcInvalidRequest("Invalid request: not a JSON object"))
            return
        has_id = "id" in data
        msg_id = data.get("id")
        method = data.get("method")
        if "method" not in data:
            self._handle_response_data(data)
            return
        if has_id and not valid_id(msg_id):
            self.reply_error(None, JsonRpcInvalidRequest("Invalid request: bad id"))
            return
        reply_to = msg_id if has_id else None
        if not isinstance(method, str) or data.get("jsonrpc") != self.VERSION:
            self.reply_error(
                reply_to, JsonRpcInvalidRequest("Invalid request: needs jsonrpc 2.0 and a method")
            )
            return
        if not self._lifecycle_allows(method, reply_to, is_request=has_id):
            return
        params = data.get("params")
        cancelled = params.get("id") if isinstance(params, dict) else None
        if method == types.CANCEL_REQUEST and not has_id and not valid_id(cancelled):
            log.warning("ignored $/cancelRequest without a valid id")  # pygls would raise
            return
        message_type = self.get_message_type(method)
        if has_id and message_type is not None and not has_id_field(message_type):
            # pygls would handle it as the notification and never reply.
            self.reply_error(
                msg_id, JsonRpcInvalidRequest(f"Invalid request: {method} is a notification")
            )
            return
        if "params" not in data and method not in types.METHOD_TO_TYPES:
            data = {**data, "params": None}
        try:
            message = self._structure(data, method, is_request=has_id)
        except cattrs.BaseValidationError as error:
            detail = "; ".join(cattrs.transform_error(error, path="message"))
            log.warning("invalid params for %s: %s", method, detail)
            if has_id:
                self.reply_error(msg_id, JsonRpcInvalidParams(f"Invalid params: {detail}"))
            return
        except Exception as error:  # cattrs raises more than its own errors on odd input
            log.warning("invalid params for %s: %r", method, error)
            if has_id:
                self.reply_error(msg_id, JsonRpcInvalidParams(f"Invalid params: {error!r}"))
            return
        if method == types.INITIALIZE:
            self.initialize_received = True
        try:
            self.handle_message(message)
        except SystemExit:
            raise
        except Exception as error:
            log.exception("failed to handle %s", method)
            if has_id:
                self.reply_error(msg_id, JsonRpcInternalError(f"Internal error: {error!r}"))

    def _lifecycle_allows(self, method: str, reply_to: Any, *, is_request: bool) -> bool:
        if not is_request:
            if method == types.EXIT:
                return True
            if not self.initialize_received or self._shutdown:
                log.info("ignored %s: the server is not running", method)
                return False
            return True
        if method == types.INITIALIZE and self.initialize_received:
            self.reply_error(
                reply_to, JsonRpcInvalidRequest("Invalid request: initialize was already sent")
            )
            return False
        if method != types.INITIALIZE and not self.initialize_received:
            self.reply_error(reply_to, JsonRpcServerNotInitialized())
            return False
        if self._shutdown:
            self.reply_error(
                reply_to, JsonRpcInvalidRequest("Invalid request: the server is shutting down")
            )
            return False
        return True

    def _structure(self, data: dict[str, Any], method: str, *, is_request: bool) -> Any:
        fallback = JsonRPCRequestMessage if is_request else JsonRPCNotification
        message_type = self.get_message_type(method) or fallback
        return self._converter.structure(data, message_type)

    def _handle_response_data(self, data: dict[str, Any]) -> None:
        """A reply from the client to one of our requests (applyEdit, showDocument, progress)."""
        if "id" not in data:
            self.reply_error(None, JsonRpcInvalidRequest("Invalid request: no method and no id"))
            return
        msg_id = message_id(data.get("id"))
        if msg_id is None or data.get("jsonrpc") != self.VERSION:
            log.warning("dropped a message with neither a method nor a valid id")
            return
        try:
            if "error" in data:
                error = self._converter.structure(data, types.ResponseErrorMessage)
                self._handle_response(msg_id, None, error.error)
            else:
                result_type = self._result_types.pop(msg_id, None) or JsonRPCResponseMessage
                response = self._converter.structure(
                    {**data, "result": data.get("result")}, result_type
                )
                self._handle_response(msg_id, response.result)
        except Exception as error:
            # Fail the waiting request rather than leave it pending forever.
            log.warning("a malformed reply to request %r: %r", msg_id, error)
            failure = JsonRpcInternalError(f"malformed reply from the client: {error!r}")
            self._handle_response(msg_id, None, failure.to_response_error())

    # --- output --------------------------------------------------------------------------------

    def reply_error(self, msg_id: Any, error: JsonRpcException) -> None:
        self._send_response(msg_id, error=error.to_response_error())

    def _send_data(self, data: Any) -> None:
        """As pygls, but a reply that cannot be serialised becomes an error reply, not silence.

        Overrides pygls' private ``_send_data``, which logs a serialisation failure and sends
        nothing (the request stays unanswered), and writes to a channel already known broken.
        """
        if not data or self.channel_broken:
            return
        if self.writer is None:
            log.error("no channel to send on")
            return
        try:
            body = json.dumps(data, default=self._serialize_message)
        except Exception as error:
            msg_id = getattr(data, "id", None)
            log.error("could not serialise a message to the client: %r", error)
            if msg_id is None or hasattr(data, "method"):
                return
            failure = JsonRpcInternalError(f"Internal error: unserialisable result: {error!r}")
            body = json.dumps(
                types.ResponseErrorMessage(id=msg_id, error=failure.to_response_error()),
                default=self._serialize_message,
            )
        payload = body.encode(self.CHARSET)
        if self._include_headers:
            header = (
                f"Content-Length: {len(payload)}\r\n"
                f"Content-Type: {self.CONTENT_TYPE}; charset={self.CHARSET}\r\n\r\n"
            )
            payload = header.encode("ascii") + payload
        try:
            self.writer.write(payload)  # the channels in tandem.lsp.transport write synchronously
        except (OSError, ValueError) as error:  # the client is gone (or exit closed the channel)
            # Set before logging: the log handler that forwards to the client sends through here.
            self.channel_broken = True
            log.error("could not write to the client, nothing more will be sent: %s", error)

    # --- handlers ------------------------------------------------------------------------------

    def _execute_handler(
        self,
        msg_id: Any,
        handler: Callable[..., Any],
        callback: Callable[..., Any],
        args: tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        """Overrides pygls' private ``_execute_handler`` to wrap every handler in
        :func:`_isolated`, and to forget each future once done: pygls files the inner steps of
        its generator handlers under fresh ids and never removes them (a leak per request)."""
        super()._execute_handler(msg_id, _isolated(handler), callback, args, kwargs)
        future = self._request_futures.get(msg_id)
        if future is not None:
            future.add_done_callback(lambda done: self._forget(msg_id, done))

    def _send_handler_result(self, future: Future[Any], *, msg_id: Any) -> None:
        """Overrides pygls' private ``_send_handler_result``: a cancelled request gets its
        RequestCancelled reply without the traceback pygls logs for a failed one."""
        error = None if future.cancelled() else future.exception()
        if isinstance(error, JsonRpcRequestCancelled):
            self._request_futures.pop(msg_id, None)
            log.info("request %s cancelled: %s", msg_id, error)
            self._send_response(msg_id, error=error.to_response_error())
            return
        super()._send_handler_result(future, msg_id=msg_id)

    def _forget(self, msg_id: Any, future: Future[Any]) -> None:
        if self._request_futures.get(msg_id) is future:
            del self._request_futures[msg_id]

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(
        self, params: types.InitializeParams
    ) -> Generator[Any, Any, types.InitializeResult]:
        """pygls' ``initialize``, then its new workspace made a :class:`BoundedWorkspace`."""
        result = yield from super().lsp_initialize(params)
        bound(self._workspace)
        return result

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(
        self, params: types.DidChangeTextDocumentParams
    ) -> Generator[Any, Any, None]:
        """pygls' ``didChange`` raises a KeyError (an error popup) for a document never opened."""
        if unquote(params.text_document.uri) not in self.workspace.text_documents:
            log.warning("didChange for %s, which is not open: ignored", params.text_document.uri)
            return
        yield from super().lsp_text_document__did_change(params)

    @lsp_method(PING)
    def tandem_ping(self, params: Any) -> dict[str, bool]:
        return {"ok": True}


def request_future(protocol: LanguageServerProtocol) -> tuple[bool, Future[Any] | None]:
    """Whether a request is being handled, and pygls' future for it (None once answered): from
    pygls' private ``_request_futures``, since ``$/cancelRequest`` cancels that future but not
    the asyncio task running an async command, so a job links the two itself."""
    if protocol.msg_id is None:
        return False, None
    futures: dict[Any, Future[Any]] = getattr(protocol, "_request_futures", {})
    return True, futures.get(protocol.msg_id)

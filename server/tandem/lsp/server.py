"""The server class every handler receives: pygls' server with Tandem's protocol and Session.

pygls keeps one handler per LSP method. Several features follow the same notification (the
workspace index and the review findings both follow ``didChange``), so features do not register
notifications with pygls directly: they subscribe with ``@server.notifications.on(METHOD)``,
and the first subscription binds the method to pygls once, with a handler that calls every
subscriber in the order they subscribed. Requests and commands have one handler each and are
registered with pygls as usual (``@server.feature``, ``@server.command``).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from pygls.exceptions import FeatureRequestError
from pygls.lsp.server import LanguageServer

from tandem import __version__
from tandem.lsp.pygls_overrides import TandemProtocol
from tandem.lsp.session import Session

log = logging.getLogger(__name__)

Subscriber = Callable[["TandemServer", Any], None]


class Notifications:
    """The subscribers of each notification, bound to pygls one method at a time."""

    def __init__(self, server: TandemServer) -> None:
        self._server = server
        self._subscribers: dict[str, list[Subscriber]] = {}

    def on(self, method: str) -> Callable[[Subscriber], Subscriber]:
        """Decorator: call the function (synchronously, ``(ls, params)``) for each ``method``."""

        def subscribe(subscriber: Subscriber) -> Subscriber:
            if inspect.iscoroutinefunction(subscriber):
                raise TypeError(f"{method}: a subscriber runs synchronously; start a task in it")
            if method not in self._subscribers:
                self._subscribers[method] = []
                self._server.feature(method)(self._fan_out(method))
            self._subscribers[method].append(subscriber)
            return subscriber

        return subscribe

    def subscribers(self, method: str) -> tuple[Subscriber, ...]:
        return tuple(self._subscribers.get(method, ()))

    def _fan_out(self, method: str) -> Callable[[TandemServer, Any], None]:
        def fan_out(ls: TandemServer, params: Any) -> None:
            # Every subscriber runs even when another failed: a feature's failure stays its own.
            # The first failure then goes where pygls sends a failed notification (the log).
            failures: list[Exception] = []
            for subscriber in self.subscribers(method):
                try:
                    subscriber(ls, params)
                except Exception as error:
                    if failures:
                        log.exception("%s: %s failed too", method, subscriber.__qualname__)
                    failures.append(error)
            if failures:
                raise failures[0]

        return fan_out


class TandemServer(LanguageServer):
    """pygls' server hardened by :class:`TandemProtocol`, with the :class:`Session` it serves."""

    protocol: TandemProtocol

    def __init__(self) -> None:
        super().__init__("tandem", __version__, protocol_cls=TandemProtocol)
        self.session = Session()
        self.notifications = Notifications(self)

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Failures outside a request go to the log, not to a popup per malformed message.

        A failed request already carries its error in its reply (and pygls logged it).
        """
        if source is not FeatureRequestError:
            log.error("%s", error)

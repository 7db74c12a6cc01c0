"""Test-wide guard: any connection to a non-loopback address fails the test."""

from __future__ import annotations

import ipaddress
import os
import socket
import tempfile
from typing import Any

import pytest

_real_connect = socket.socket.connect

# Per-user caches (the tokenizer's vocabulary copy) go to a folder of this test run, never to the
# home folder; servers started by tests inherit it.
os.environ["TANDEM_CACHE_DIR"] = tempfile.mkdtemp(prefix="tandem-test-cache-")


def _is_loopback(address: Any) -> bool:
    if isinstance(address, tuple) and address:
        host = str(address[0])
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False
    return True  # unix sockets stay on the machine


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def guarded_connect(self: socket.socket, address: Any) -> Any:
        if not _is_loopback(address):
            raise RuntimeError(f"tests must not touch the network (tried {address!r})")
        return _real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)


def _accept_registrations() -> None:
    """pytest-lsp's client profiles claim dynamic registration but its client does not answer
    ``client/registerCapability``; answer it (as editors do) and keep what was registered in
    ``client.registrations``, so any session can check it."""
    from lsprotocol import types
    from pytest_lsp.client import DEFAULT_CLIENT_FEATURES

    # pygls injects the client into a first parameter named ``ls``.
    def register_capability(ls: Any, params: types.RegistrationParams) -> None:
        if not hasattr(ls, "registrations"):
            ls.registrations = []
        ls.registrations.extend(params.registrations)

    def unregister_capability(ls: Any, params: types.UnregistrationParams) -> None:
        gone = {item.id for item in params.unregisterations}
        ls.registrations = [r for r in getattr(ls, "registrations", []) if r.id not in gone]

    DEFAULT_CLIENT_FEATURES.setdefault(types.CLIENT_REGISTER_CAPABILITY, register_capability)
    DEFAULT_CLIENT_FEATURES.setdefault(types.CLIENT_UNREGISTER_CAPABILITY, unregister_capability)


_accept_registrations()

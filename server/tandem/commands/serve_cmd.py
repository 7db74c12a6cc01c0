"""``tandem serve``: run the language server over stdio (default) or TCP."""

from __future__ import annotations

import argparse
import sys

from tandem.commands.common import SubParsers


def _host_port(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return host, int(port)


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser("serve", help="run the language server (stdio by default)")
    transport = parser.add_mutually_exclusive_group()
    transport.add_argument(
        "--stdio", action="store_true", help="talk LSP over stdin/stdout (the default)"
    )
    transport.add_argument(
        "--tcp", type=_host_port, metavar="HOST:PORT", help="listen for one client on TCP"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tandem.lsp.app import create_server
    from tandem.lsp.memory import return_large_buffers
    from tandem.lsp.transport import run_stdio, run_tcp

    return_large_buffers()
    server = create_server()
    if args.tcp is not None:
        host, port = args.tcp
        print(f"tandem: listening on {host}:{port}", file=sys.stderr)
        return run_tcp(server, host, port)
    return run_stdio(server)

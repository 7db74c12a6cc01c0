"""How a flow command's failure reaches the client: a JSON-RPC error with a message for the user."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInternalError, JsonRpcInvalidParams

from tandem.lsp.change_request import MissingRequest

log = logging.getLogger(__name__)

REQUEST_FAILED = types.LSPErrorCodes.RequestFailed.value


class CommandFailed(JsonRpcException):
    """The command could not do its work (the flow refused or a step failed); LSP RequestFailed."""

    CODE = REQUEST_FAILED


async def answered(command: str, work: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    """Every failure becomes a JSON-RPC error with a message for the user; never a crash."""
    from tandem.flow.errors import FlowError
    from tandem.flow.handoff import PlanDocumentError
    from tandem.flow.taskstore import TaskStoreError

    try:
        return await work
    except JsonRpcException:
        raise
    except (MissingRequest, TaskStoreError, PlanDocumentError) as error:
        raise JsonRpcInvalidParams(f"{command}: {error}") from error
    except FlowError as error:
        raise CommandFailed(f"{command}: {error.message}") from error
    except Exception as error:
        log.exception("%s failed", command)
        raise JsonRpcInternalError(f"{command} failed: {error}") from error

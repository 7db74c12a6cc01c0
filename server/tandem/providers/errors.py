"""Turn an SDK exception into a retry verdict or a ``ProviderFailure`` the user can act on.

The Anthropic and OpenAI SDKs share the shape of their errors (``APIStatusError`` with a status
code, response and body; ``APITimeoutError``; ``APIConnectionError`` wrapping the httpx2 cause),
so one classifier serves both, given the SDK's exception classes. Messages name the key
*variable* and the provider, never the key; any echo of the key in a server message is masked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tandem.providers.base import ProviderFailure
from tandem.providers.retry import Transient, format_seconds, parse_retry_after

_TOO_LONG_MARKERS = (
    "prompt is too long",
    "context_length_exceeded",
    "context length",
    "maximum context",
    "too many tokens",
    "request too large",
    "context size",  # llama.cpp's llama-server: "exceeds the available context size"
    "exceed_context_size",
)
# A 5xx whose message names the request's form is a refusal of that form, not a passing fault:
# llama-cpp-python's server answers a json_schema response_format with HTTP 500.
_REQUEST_FORM_MARKERS = ("response_format", "json_schema", "tool_choice")


class EmptyStream(Exception):
    """A streamed reply that ended without a single event (llama-cpp-python's server ends its
    stream so when it cannot serve the request, e.g. a prompt longer than its window)."""


@dataclass(frozen=True)
class CallContext:
    """Who was called, so messages can say which provider, model, key variable and endpoint."""

    provider: str  # "anthropic", "openai", "openai-compatible"
    model: str
    alias: str
    key_env: str | None
    base_url: str
    api_key: str | None  # only to mask an echo of it; never printed
    timeout_s: float
    custom_base_url: bool = False  # a 404 may then mean a wrong path, not only a wrong model
    any_server: bool = False  # someone else's server (OpenAI-compatible), not the vendor's API

    def setting(self, name: str) -> str:
        return f"models.{self.alias}.{name}" if self.alias else name

    def mask(self, text: str) -> str:
        if self.api_key and len(self.api_key) >= 8 and self.api_key in text:
            text = text.replace(self.api_key, "***")
        return text

    def failure(self, kind: Any, message: str) -> ProviderFailure:
        return ProviderFailure(kind, self.mask(message), self.provider, self.model)


@dataclass(frozen=True)
class SdkErrors:
    """The exception classes of one SDK that the classifier needs."""

    status_error: type[Exception]
    timeout_error: type[Exception]
    connection_error: type[Exception]
    api_error: type[Exception] | None = None
    """The SDK's base error: a stream's error event that is not an HTTP status."""


def is_local(base_url: str) -> bool:
    host = (urlsplit(base_url).hostname or "").lower()
    return host in ("localhost", "::1", "0.0.0.0") or host.startswith("127.")


def server_message(body: object, fallback: str) -> str:
    """The human part of an error body (``{"error": {"message": ...}}`` in both APIs)."""
    text = fallback
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping) and isinstance(inner.get("message"), str):
            text = str(inner["message"])
        elif isinstance(inner, str):
            text = inner
    return " ".join(text.split())[:300]  # one line: some servers send a traceback


def _names_a_missing_model(lowered: str) -> bool:
    """A 400 that says the model does not exist (llama-server's router: "model 'x' not found")."""
    return "model_not_found" in lowered or (
        "model" in lowered and ("not found" in lowered or "does not exist" in lowered)
    )


def _error_code(body: object) -> str:
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping):
            return str(inner.get("code") or inner.get("type") or "")
    return ""


def _causes(exc: BaseException) -> list[BaseException]:
    chain = [exc]
    while chain[-1].__cause__ is not None and len(chain) < 20:
        chain.append(chain[-1].__cause__)
    return chain


def _could_not_connect(exc: BaseException) -> bool:
    # httpx2 and the transport core below it each have a ConnectError; match by name so both count
    return any(
        isinstance(link, ConnectionRefusedError) or type(link).__name__ == "ConnectError"
        for link in _causes(exc)
    )


def classify(
    exc: Exception, errors: SdkErrors, ctx: CallContext, now: Callable[[], float]
) -> Transient | ProviderFailure:
    """Retry verdict for transient trouble; a final, explained failure for everything else."""
    if isinstance(exc, errors.timeout_error):
        return Transient(
            "timeout", f"{ctx.provider} did not answer within {format_seconds(ctx.timeout_s)}"
        )
    if isinstance(exc, errors.connection_error):
        return _connection(exc, ctx)
    if isinstance(exc, errors.status_error):
        return _status(exc, ctx, now)
    if errors.api_error is not None and isinstance(exc, errors.api_error):
        return _stream_error(exc, ctx)
    if isinstance(exc, EmptyStream):
        return Transient("connection", f"{ctx.provider} ended its streamed reply without a word")
    cut = _stream_cut(exc, ctx)
    if cut is not None:
        return cut
    return ctx.failure("bad_request", f"unexpected error from the {ctx.provider} SDK: {exc!r}")


def _stream_cut(exc: Exception, ctx: CallContext) -> Transient | None:
    """httpx2's own error while a streamed reply was being read (the SDKs do not wrap those):
    the server went away or stopped sending mid-reply."""
    kinds = {kind.__name__ for link in _causes(exc) for kind in type(link).__mro__}
    if "TimeoutException" in kinds:
        return Transient(
            "timeout",
            f"{ctx.provider} stopped sending mid-reply for {format_seconds(ctx.timeout_s)}",
        )
    if "TransportError" in kinds:
        return Transient(
            "connection", f"connection to {ctx.provider} was lost mid-reply ({type(exc).__name__})"
        )
    return None


def _stream_error(exc: Exception, ctx: CallContext) -> Transient | ProviderFailure:
    """An error event in a stream that had begun as a success (HTTP 200)."""
    body = getattr(exc, "body", None)
    said = ctx.mask(server_message(body, str(exc)))
    lowered = f"{said} {_error_code(body)}".lower()
    if any(marker in lowered for marker in _TOO_LONG_MARKERS):
        return _too_large(ctx, "mid-reply", said)
    if "overloaded" in lowered or "server_error" in lowered or "api_error" in lowered:
        return Transient("overloaded", f"{ctx.provider} reported an error mid-reply ({said})")
    return ctx.failure(
        "invalid_reply",
        f"{ctx.provider} reported an error mid-reply: {said}; run the step again, and read the "
        "server's log if it happens again",
    )


def _too_large(ctx: CallContext, status: str, said: str) -> ProviderFailure:
    window = (
        ", or start the server with a larger context window (llama-server -c N, "
        "llama-cpp-python --n_ctx N, Ollama num_ctx)"
        if is_local(ctx.base_url)
        else ""
    )
    return ctx.failure(
        "too_large",
        f"the request is too large for {ctx.model} ({status}: {said}); lower "
        f"context.budget_tokens or {ctx.setting('max_output_tokens')}, or narrow the "
        f"request{window}",
    )


def _connection(exc: Exception, ctx: CallContext) -> Transient | ProviderFailure:
    if _could_not_connect(exc):
        if is_local(ctx.base_url):
            hint = (
                f"is the local server at {ctx.base_url} running? Start it, or point "
                f"{ctx.setting('base_url')} at the address it listens on"
            )
        else:
            hint = f"check the network and {ctx.setting('base_url')} ({ctx.base_url})"
        return ctx.failure("connection", f"could not connect to {ctx.base_url}: {hint}")
    detail = type(_causes(exc)[-1]).__name__
    return Transient("connection", f"connection to {ctx.provider} was lost ({detail})")


def _status(
    exc: Exception, ctx: CallContext, now: Callable[[], float]
) -> Transient | ProviderFailure:
    status = int(getattr(exc, "status_code", 0))
    if status < 400:  # an error event inside a stream that began as a success
        return _stream_error(exc, ctx)
    body = getattr(exc, "body", None)
    said = ctx.mask(server_message(body, str(exc)))
    response = getattr(exc, "response", None)
    headers: Mapping[str, str] = getattr(response, "headers", {}) or {}
    if status in (401, 403):
        if ctx.key_env:
            what = f"the key in {ctx.key_env} was rejected by {ctx.provider}"
            fix = (
                f"check that {ctx.key_env} holds a valid {ctx.provider} key "
                f"with access to {ctx.model}"
            )
        else:
            what = f"the server at {ctx.base_url} asks for a key"
            fix = f"set {ctx.setting('api_key_env')} to the name of a variable holding it"
        return ctx.failure("auth", f"{what} (HTTP {status}: {said}); {fix}")
    lowered = f"{said} {_error_code(body)}".lower()
    if status == 404 or (status == 400 and _names_a_missing_model(lowered)):
        return ctx.failure(
            "not_found",
            f"model {ctx.model!r} was not found at {ctx.base_url} (HTTP {status}: {said}); "
            f"check {ctx.setting('model')}"
            + (f" and the path of {ctx.setting('base_url')}" if ctx.custom_base_url else "")
            + (" (`tandem doctor` lists the models the server serves)" if ctx.any_server else ""),
        )
    if status == 413 or (status == 400 and any(m in lowered for m in _TOO_LONG_MARKERS)):
        return _too_large(ctx, f"HTTP {status}", said)
    if status == 429:
        return Transient(
            "rate_limited",
            f"rate limited by {ctx.provider} (HTTP 429)",
            parse_retry_after(headers, now()),
        )
    if status == 408:
        return Transient("timeout", f"{ctx.provider} timed out the request (HTTP 408)")
    if status >= 500 and any(marker in lowered for marker in _REQUEST_FORM_MARKERS):
        return _refused(
            ctx,
            f"{ctx.provider} could not serve the request's form (HTTP {status}: {said})",
            response,
        )
    if status >= 500:
        label = "overloaded" if status == 529 else "server error"
        return Transient(
            "overloaded",
            f"{ctx.provider} {label} (HTTP {status})",
            parse_retry_after(headers, now()),
        )
    return _refused(ctx, f"{ctx.provider} refused the request (HTTP {status}: {said})", response)


def _refused(ctx: CallContext, message: str, response: object) -> ProviderFailure:
    """A ``bad_request`` failure carrying the server's whole answer, to be saved for the user."""
    failure = ctx.failure("bad_request", message)
    text = getattr(response, "text", None)
    failure.raw_text = ctx.mask(text) if isinstance(text, str) and text else None
    return failure

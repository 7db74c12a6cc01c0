"""Warming up after ``initialized``: what ``initialize`` did not wait for, loaded in a thread."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tandem.config import Settings

log = logging.getLogger(__name__)


def warm_up(settings: Settings) -> None:
    """Import what ``initialize`` did not wait for (the preview's and the flow commands'
    modules) and load the tokenizer, price table and prompts, so the first hover or command
    does not pay for them (run in a thread right after ``initialized``)."""
    try:
        import tandem.lsp.arguments
        import tandem.lsp.draft_delivery
        import tandem.lsp.flow_session
        import tandem.lsp.review_diagnostics
        import tandem.session.preview  # noqa: F401  (the estimate, flow and risk modules it pulls in)
        from tandem.cost.estimate import count_prompt_tokens
        from tandem.cost.prices import price_usage
        from tandem.flow.prompts import load_prompt
        from tandem.values import Usage

        for model in settings.models.values():
            count_prompt_tokens(model, system="warm", user="up", output_schema=None)
            price_usage(model, Usage(input_tokens=1, output_tokens=1))
        for step in ("plan", "draft", "review"):
            load_prompt(step)
    except Exception:  # warming is an optimisation; the first hover will load what it needs
        log.debug("warm-up failed", exc_info=True)

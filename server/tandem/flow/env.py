"""What the flow needs from outside (settings, files, models, the ledger) and the one builder of it.

Every face (the CLI, the editor, ``tandem trial``, the demo) builds its :class:`FlowEnv` with
:func:`build_flow_env`, handing it the models as a :data:`ProviderFactory`: the registry's
(:func:`registry_providers`) or one provider answering every alias (:func:`one_provider`, the
FAKE provider's canned replies).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tandem.config import ModelSettings, Settings
from tandem.cost.estimate import EstimateHistory
from tandem.flow.taskstore import TaskStore
from tandem.providers.base import ProgressReport, Provider
from tandem.values import StepRecorder

logger = logging.getLogger("tandem.flow")

ProviderFactory = Callable[[str, ModelSettings], Provider]
Confirm = Callable[[str], bool | Awaitable[bool]]
"""Asks the user a yes/no question (the message says what would be sent and its price)."""


@dataclass
class FlowEnv:
    """Everything the flow needs from outside: settings, files, models, the ledger."""

    settings: Settings
    repo: Path
    store: TaskStore
    recorder: StepRecorder
    providers: ProviderFactory
    history: EstimateHistory | None = None
    progress: ProgressReport | None = None
    review_requested: bool = False
    confirm: Confirm | None = None
    """Asked before a step estimated above ``budgets.confirm_above_usd``; None: refuse it."""
    _provider_cache: dict[str, Provider] = field(default_factory=dict)

    def provider(self, alias: str) -> Provider:
        if alias not in self._provider_cache:
            self._provider_cache[alias] = self.providers(alias, self.settings.models[alias])
        return self._provider_cache[alias]

    async def ask(self, question: str) -> bool:
        if self.confirm is None:
            return False
        answer = self.confirm(question)
        if inspect.isawaitable(answer):
            answer = await answer
        return bool(answer)

    async def say(self, message: str) -> None:
        logger.info("%s", message)
        if self.progress is not None:
            result = self.progress(message)
            if inspect.isawaitable(result):
                await result


def build_flow_env(
    settings: Settings,
    repo: Path,
    *,
    recorder: StepRecorder,
    providers: ProviderFactory,
    history: EstimateHistory | None = None,
    store: TaskStore | None = None,
    progress: ProgressReport | None = None,
    review_requested: bool = False,
    confirm: Confirm | None = None,
) -> FlowEnv:
    """The flow's environment for ``repo``: tasks are kept in ``store`` (by default under
    ``repo``), steps go to ``recorder``, estimates learn from ``history``, and a step above
    ``budgets.confirm_above_usd`` is sent only if ``confirm`` says yes (None: nobody to ask)."""
    return FlowEnv(
        settings=settings,
        repo=repo,
        store=store if store is not None else TaskStore(repo),
        recorder=recorder,
        providers=providers,
        history=history,
        progress=progress,
        review_requested=review_requested,
        confirm=confirm,
    )


def registry_providers(
    environ: Mapping[str, str], *, workspace: Path, fake_replies: Path | None = None
) -> ProviderFactory:
    """Models built by the provider registry, keys read from ``environ``; a ``fake`` model
    replays ``fake_replies`` when given, else the file its settings name (relative to
    ``workspace``, the folder whose settings were loaded)."""

    def build(alias: str, model: ModelSettings) -> Provider:
        from tandem.providers.registry import build_provider, configured_replies

        replies = fake_replies or configured_replies(model, workspace)
        return build_provider(alias, model, environ, fake_replies=replies)

    return build


def one_provider(provider: Provider) -> ProviderFactory:
    """Every alias answered by ``provider`` (canned replies shared by all steps)."""
    return lambda alias, model: provider

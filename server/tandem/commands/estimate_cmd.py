"""``tandem estimate``: route and cost of each step and the whole task, beside the all-strong
baseline. Nothing is sent to any model."""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal
from typing import TYPE_CHECKING

from tandem.commands.common import SubParsers
from tandem.commands.flow_common import (
    BAD_INPUT,
    InputError,
    add_output_options,
    add_source_options,
    add_task_options,
    request_from_args,
    settings_for,
    slice_from_args,
)
from tandem.commands.flow_output import print_json

if TYPE_CHECKING:
    from tandem.flow.estimate import FlowEstimate


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "estimate", help="route and cost per step and in total, and the all-strong baseline"
    )
    add_source_options(parser, required=True)
    add_task_options(parser)
    add_output_options(parser, fake=False)
    parser.set_defaults(run=run)


def _usd(value: Decimal | None) -> str:
    return f"${value:.4f}" if value is not None else "unpriced"


def print_estimate(result: FlowEstimate) -> None:
    total = result.estimate
    by_step = {step.step: step for step in total.steps}
    print(f"risk: {result.risk.tier}; task type: {result.task_type}")
    for reason in result.risk.messages:
        print(f"  - {reason}")
    print("steps (nothing is sent):")
    for name, route in result.routes.items():
        estimate = by_step.get(name)
        if estimate is None:
            print(f"  {name:<7} skip: {route.reason}")
            other = result.review_if_not_trivial
            if name == "review" and other is not None:
                print(
                    f"          (if the draft is larger: {other.alias}, "
                    f"{_usd(other.usd_typical)} typical, {_usd(other.usd_max)} max)"
                )
            continue
        guess = " (calibrated guess)" if estimate.input_is_calibrated_guess else ""
        print(
            f"  {name:<7} {route.alias} ({estimate.provider}:{estimate.model}): "
            f"{estimate.input_tokens} in{guess}, {estimate.output_tokens_typical} out typical "
            f"(max {estimate.output_tokens_max}); {_usd(estimate.usd_typical)} typical, "
            f"{_usd(estimate.usd_max)} max - {route.reason}"
        )
    print(f"total: {_usd(total.usd_typical)} typical, {_usd(total.usd_max)} max")
    print(
        f"all-strong baseline: {_usd(total.baseline_usd_typical)} typical, "
        f"{_usd(total.baseline_usd_max)} max"
    )
    if total.saving_usd_typical is not None and total.saving_fraction is not None:
        print(f"saving: {_usd(total.saving_usd_typical)} ({total.saving_fraction:.0%})")
    if not result.budget.allowed:
        print(f"budget: {result.budget.message}")
    if result.redaction_count():
        kinds = sorted({kind for found in (result.redactions or {}).values() for kind in found})
        print(
            f"redacted before sending: {result.redaction_count()} secrets per prompt "
            f"({', '.join(kinds)}); estimates count the placeholders"
        )
    else:
        print("redacted before sending: nothing (no secrets found in the prompts)")


def run(args: argparse.Namespace) -> int:
    from tandem.flow.estimate import estimate_flow, estimate_json
    from tandem.ledger.recorder import GuardedRecorder

    loaded = settings_for(args)
    if loaded is None:
        return BAD_INPUT
    try:
        request = request_from_args(args)
        anchor, context = slice_from_args(args, loaded)
    except InputError as error:
        print(f"tandem estimate: {error}", file=sys.stderr)
        return BAD_INPUT
    from tandem.ledger.location import configured_ledger

    history = GuardedRecorder(configured_ledger(loaded.settings.ledger, args.workspace))
    try:
        result = estimate_flow(
            loaded.settings,
            args.repo.resolve(),
            request,
            anchor,
            context,
            task_type=args.task_type,
            history=history,
            review_requested=args.review,
        )
    finally:
        history.close()
    if args.json:
        print_json({**estimate_json(result), "excluded": list(context.excluded)})
    else:
        print_estimate(result)
        if context.excluded:
            shown = ", ".join(context.excluded[:10])
            more = f" and {len(context.excluded) - 10} more" if len(context.excluded) > 10 else ""
            print(f"excluded from the slice (never read or sent): {shown}{more}")
    return 0

"""What the split costs on real commits beside one strong model (issue 16); prints, never a test.

For each commit of the manifests (the same as ``bench/edit_replay.py``), the oracle's edits of
the whole commit are derived as in the replay, and the three calls Tandem would make are
rendered with the product's own prompts and inputs:

- plan: ``plan_values`` over the real slice (``slice_repository`` on the commit's tree, anchored
  at its source diff, as ``bench/related_tests.py`` does), request = the commit's subject line;
- draft: ``draft_values`` with the oracle plan (scope = the units and files the oracle edits
  touch) and the pre-commit snapshot of those files;
- review: ``review_values`` with the diff ``apply_edits`` makes of the oracle's edits.

Inputs are counted with the product's counter (``count_prompt_tokens``: system, user, reply
schema, chat framing; o200k, exact for OpenAI models). Outputs are the oracle's replies as
compact JSON: the plan reply, the draft in the style the prompt asks for (``mixed``: patches for
small changes, whole units otherwise), an approving review with no findings. Prices come from
genai-prices through ``price_usage``.

Three ways to pay for each commit:

- ``split``: plan and review on the strong model, draft on the cheap one;
- ``strong_slices``: the same three calls, all on the strong model;
- ``strong_files``: one call to the strong model sent the whole pre-commit text of every file the
  commit touches, answering with the whole new files (no separate plan or review: the cheapest
  way to use whole files, so the comparison flatters it).

Run: ``python bench/edit_cost.py --manifests FILE... --mirrors DIR [--limit N] --json OUT
[--strong openai:gpt-5] [--cheap openai:gpt-5-mini]``.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from edit_hunks import KINDS, reply_tokens, to_edit
from edit_replay import (
    Mirror,
    commit_changes,
    derive,
    manifest_parser,
    manifest_repos,
    write_result,
)
from related_tests import CACHE, materialise
from tandem.config import ModelSettings, Settings
from tandem.cost.estimate import count_prompt_tokens
from tandem.cost.prices import price_usage
from tandem.cost.tokens import count_tokens
from tandem.flow.edits import Snapshot, apply_edits, snapshot_text
from tandem.flow.handoff import (
    Draft,
    DraftReply,
    PlanReply,
    ReviewReply,
    Scope,
    Task,
    split_unit_id,
)
from tandem.flow.inputs import draft_values, plan_values, review_values
from tandem.flow.prompts import load_prompt, render
from tandem.slicing import slice_repository
from tandem.slicing.result import DiffAnchor, Slice
from tandem.values import Usage

WAYS = ("split", "strong_slices", "strong_files")


def model_of(spec: str) -> ModelSettings:
    provider, _, model = spec.partition(":")
    return ModelSettings(provider=provider, model=model)  # type: ignore[arg-type]


def _json_tokens(value: Any) -> int:
    return count_tokens(json.dumps(value, separators=(",", ":"), ensure_ascii=False))


def oracle_plan(subject: str, edits: list[dict[str, Any]], files: set[str]) -> PlanReply:
    """The plan a perfect planner would return: the units and files the edits touch."""
    units = sorted({e["target"] for e in edits if split_unit_id(e["target"])[1] is not None})
    paths = sorted(files)
    return PlanReply(
        summary=subject,
        scope=Scope(units=units, files=paths, out_of_scope=[]),
        assumptions=[],
        steps=[f"Change {path} as the request needs." for path in paths],
        risks=[],
        test_cases=[],
        acceptance_checks=[],
        open_questions=[],
    )


def request_tokens(model: ModelSettings, system: str, user: str, schema: type[Any]) -> int:
    return count_prompt_tokens(
        model, system=system, user=user, output_schema=schema.model_json_schema()
    )


def usd(model: ModelSettings, input_tokens: int, output_tokens: int) -> Decimal:
    price = price_usage(model, Usage(input_tokens=input_tokens, output_tokens=output_tokens))
    if price is None:
        raise SystemExit(f"genai-prices has no price for {model.provider}:{model.model}")
    return price


def commit_cost(
    mirror: Mirror, row: dict[str, Any], strong: ModelSettings, cheap: ModelSettings
) -> dict[str, Any] | None:
    found = derive(mirror, commit_changes(mirror, row["parent"], row["sha"]), KINDS)
    if any(found.misses["mixed"]):
        return None  # not expressible (binary file...): the replay reports these
    subject = mirror.git("log", "-1", "--format=%s", row["sha"]).decode().strip() or "change"
    tree, diff_path = materialise(row, mirror.git_dir, CACHE)
    shutil.rmtree(tree / ".tandem", ignore_errors=True)
    anchor = DiffAnchor(diff=diff_path.read_text(encoding="utf-8"))
    context: Slice = slice_repository(tree, anchor, Settings())
    shutil.rmtree(tree / ".tandem", ignore_errors=True)
    edits = found.edits["mixed"]
    plan = oracle_plan(subject, edits, found.scope_files)
    snapshot_files = dict(found.snapshot)
    for test in context.tests:  # the related tests the prompts quote, as they were
        if test.path not in snapshot_files and (tree / test.path).is_file():
            snapshot_files[test.path] = (tree / test.path).read_text("utf-8", "replace")
    snapshot = Snapshot(files={p: snapshot_text(p, t) for p, t in snapshot_files.items()})
    task = Task(task_id="cost", request=subject, anchor=anchor, task_type="feature", repo=str(tree))
    applied = apply_edits(snapshot, [to_edit(e) for e in edits], plan.scope)
    draft_reply = DraftReply(edits=[to_edit(e) for e in edits], notes=[])
    draft = Draft(reply=draft_reply, diff=applied.diff)
    review_reply = ReviewReply(verdict="approve", summary="Matches the plan.", findings=[])
    prompts = {
        "plan": (render(load_prompt("plan"), plan_values(task, context)), PlanReply),
        "draft": (render(load_prompt("draft"), draft_values(plan, snapshot, context)), DraftReply),
        "review": (
            render(load_prompt("review"), review_values(plan, draft, context, snapshot)),
            ReviewReply,
        ),
    }
    outputs = {
        "plan": _json_tokens(plan.model_dump(mode="json")),
        "draft": reply_tokens(edits),
        "review": _json_tokens(review_reply.model_dump(mode="json")),
    }
    tokens: dict[str, dict[str, int]] = {}
    for step, (rendered, schema) in prompts.items():
        for name, model in (("strong", strong), ("cheap", cheap)):
            tokens[f"{step}_{name}"] = {
                "in": request_tokens(model, rendered.system, rendered.user, schema),
                "out": outputs[step],
            }
    whole_user = f"{subject}\n\n" + "\n\n".join(
        f"### {path}\n```\n{text}```" for path, text in sorted(found.snapshot.items()) if text
    )
    files_in = request_tokens(strong, load_prompt("draft").system, whole_user, DraftReply)
    files_out = reply_tokens(found.whole)
    split = (
        usd(strong, **_io(tokens["plan_strong"]))
        + usd(cheap, **_io(tokens["draft_cheap"]))
        + usd(strong, **_io(tokens["review_strong"]))
    )
    strong_slices = sum(
        (usd(strong, **_io(tokens[f"{step}_strong"])) for step in prompts), Decimal(0)
    )
    return {
        "sha": row["sha"],
        "tokens": tokens,
        "files": {"in": files_in, "out": files_out},
        "draft_out_units": reply_tokens(found.edits["units"]),
        "usd": {
            "split": float(split),
            "strong_slices": float(strong_slices),
            "strong_files": float(usd(strong, files_in, files_out)),
        },
    }


def _io(step: dict[str, int]) -> dict[str, int]:
    return {"input_tokens": step["in"], "output_tokens": step["out"]}


def summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"commits": len(records)}
    for way in WAYS:
        values = [r["usd"][way] for r in records]
        out[way] = {
            "median_usd": round(statistics.median(values), 5),
            "total_usd": round(sum(values), 4),
        }
    for way in ("split", "strong_slices"):
        out[f"{way}_vs_strong_files"] = round(
            out[way]["total_usd"] / out["strong_files"]["total_usd"], 3
        )
        ratios = [r["usd"][way] / r["usd"]["strong_files"] for r in records]
        out[f"{way}_vs_strong_files_median"] = round(statistics.median(ratios), 3)
    return out


def main() -> int:
    parser = manifest_parser(__doc__.split("\n")[0])
    parser.add_argument("--strong", default="openai:gpt-5")
    parser.add_argument("--cheap", default="openai:gpt-5-mini")
    args = parser.parse_args()
    strong, cheap = model_of(args.strong), model_of(args.cheap)
    started = time.perf_counter()
    per_repo: dict[str, Any] = {}
    pooled: list[dict[str, Any]] = []
    skipped = 0
    for repo, rows, mirror in manifest_repos(args):
        records = []
        for row in rows:
            try:
                record = commit_cost(mirror, row, strong, cheap)
            except (subprocess.CalledProcessError, RuntimeError) as error:
                print(f"{repo} {row['sha'][:12]}: {error}", file=sys.stderr)
                record = None
            if record is None:
                skipped += 1
            else:
                records.append(record)
        per_repo[repo] = summary(records)
        pooled += records
        s = per_repo[repo]
        print(
            f"{repo:22} split ${s['split']['median_usd']:.4f} median / "
            f"${s['split']['total_usd']:.3f} total; strong slices "
            f"${s['strong_slices']['median_usd']:.4f} / ${s['strong_slices']['total_usd']:.3f}; "
            f"strong files ${s['strong_files']['median_usd']:.4f} / "
            f"${s['strong_files']['total_usd']:.3f}; split/files {s['split_vs_strong_files']}"
        )
    result = {
        "strong": args.strong,
        "cheap": args.cheap,
        "per_repo": per_repo,
        "pooled": summary(pooled),
        "skipped": skipped,
        "seconds": round(time.perf_counter() - started, 1),
        "commits": pooled,
    }
    return write_result(args.json_out, result, "pooled")


if __name__ == "__main__":
    raise SystemExit(main())

"""The offline demo: shows what Tandem does today on the bundled example, honestly labelled."""

from __future__ import annotations

import os
from pathlib import Path

from tandem.config import key_is_set, load_settings

EXAMPLE_TASK = (
    "add an optional `archived` filter to GET /projects: keep the default behaviour, accept "
    "true/false, reject other values, filter in the query, with tests"
)


def default_example() -> Path:
    return Path(__file__).resolve().parents[2] / "examples" / "projects_api"


def run_demo(example: Path | None) -> int:
    root = example or default_example()
    loaded = load_settings(workspace=root)
    print("Tandem demo")
    print(f"example project: {root}")
    print(f"task: {EXAMPLE_TASK}")
    print("settings from: " + " < ".join(loaded.sources))
    for alias, model in loaded.settings.models.items():
        keyed = key_is_set(model, dict(os.environ))
        note = "key set" if keyed else "no key: replies would come from the fake provider"
        print(f"  model {alias}: {model.provider}:{model.model} ({note})")
    routes = loaded.settings.routes
    for step in ("plan", "draft", "review"):
        table = getattr(routes, step)
        print(f"  route {step}: low={table.low} medium={table.medium} high={table.high}")
    print("Slicing, estimates, the plan/draft/review flow and the ledger are not built yet;")
    print("this demo shows only the settings and routes that exist today.")
    return 0

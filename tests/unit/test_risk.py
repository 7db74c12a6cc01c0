"""Risk: a tier and a short human reason for every piece of evidence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flow_doubles import EXAMPLE

from tandem.config import RiskSettings
from tandem.policy.risk import TouchedFile, assess_risk

SETTINGS = RiskSettings()


def _file(path: str, text: str, lines: tuple[int, int] | None = None) -> TouchedFile:
    span = lines or (1, text.count("\n") + 1)
    return TouchedFile(path, text, (span,), ("unit",))


def test_permissions_path_is_high_risk_with_the_rule_named() -> None:
    text = (EXAMPLE / "app/permissions.py").read_text()
    risk = assess_risk([_file("app/permissions.py", text)], SETTINGS, has_related_tests=True)
    assert risk.tier == "high"
    assert "app/permissions.py is permissions code (rule **/*permission*)" in risk.messages


def test_plain_sql_in_touched_code_is_medium() -> None:
    text = (EXAMPLE / "app/queries.py").read_text()
    risk = assess_risk([_file("app/queries.py", text, (6, 13))], SETTINGS, has_related_tests=True)
    assert risk.tier == "medium"
    assert "SQL statement at app/queries.py:9" in risk.messages


def test_sql_outside_the_touched_lines_is_not_a_signal() -> None:
    text = (EXAMPLE / "app/queries.py").read_text()
    risk = assess_risk([_file("app/queries.py", text, (1, 3))], SETTINGS, has_related_tests=True)
    assert risk.tier == "low"


def test_sql_built_by_formatting_is_high() -> None:
    text = (
        'def find(db, name):\n    return db.execute(f"SELECT * FROM users WHERE name = {name}")\n'
    )
    risk = assess_risk([_file("app/users.py", text)], SETTINGS, has_related_tests=True)
    assert risk.tier == "high"
    assert "SQL built by string formatting at app/users.py:2" in risk.messages


def test_eval_and_subprocess_are_high() -> None:
    text = "import subprocess\n\ndef run(cmd):\n    subprocess.run(cmd)\n    return eval(cmd)\n"
    risk = assess_risk([_file("tools/run.py", text)], SETTINGS, has_related_tests=True)
    assert risk.tier == "high"
    assert any("runs code or commands (subprocess.run)" in m for m in risk.messages)


def test_tokens_and_secrets_are_high() -> None:
    text = "def check(request):\n    return request.headers['x'] == access_token\n"
    risk = assess_risk([_file("app/views.py", text)], SETTINGS, has_related_tests=True)
    assert any("crypto, tokens or secrets (access_token)" in m for m in risk.messages)


def test_locks_are_medium() -> None:
    text = "import threading\n\ndef make():\n    return threading.Lock()\n"
    risk = assess_risk([_file("app/cache.py", text)], SETTINGS, has_related_tests=True)
    assert risk.tier == "medium"
    assert any("locks, threads or async" in m for m in risk.messages)


def test_exported_typescript_function_is_public_api() -> None:
    text = "export function total(items: number[]): number {\n  return items.length;\n}\n"
    risk = assess_risk([_file("src/total.ts", text)], SETTINGS, has_related_tests=True)
    assert "changes exported API (total) at src/total.ts:1" in risk.messages


def test_size_thresholds_come_from_settings() -> None:
    text = "x = 1\n" * 100
    settings = RiskSettings(medium_above_lines=50, high_above_lines=90)
    risk = assess_risk([_file("data.py", text)], settings, has_related_tests=True)
    assert risk.tier == "high"
    assert any(m.startswith("large change: 101 lines") for m in risk.messages)


def test_no_related_tests_raises_one_tier_when_configured() -> None:
    files = [_file("notes.py", "x = 1\n")]
    raised = assess_risk(files, SETTINGS, has_related_tests=False)
    assert raised.tier == "medium"
    assert "no related tests found: one tier riskier (low → medium)" in raised.messages
    kept = assess_risk(files, RiskSettings(untested_raises_tier=False), has_related_tests=False)
    assert kept.tier == "low"


def test_every_reason_is_a_short_sentence(tmp_path: Path) -> None:
    text = (EXAMPLE / "app/queries.py").read_text()
    risk = assess_risk([_file("app/queries.py", text)], SETTINGS, has_related_tests=False)
    assert all(0 < len(m) <= 120 and "\n" not in m for m in risk.messages)


def test_nodes_within_ranges_are_the_full_walks_in_the_same_order() -> None:
    """The walk that finds the top-level items touched with a cursor yields what a walk of the
    whole tree would, in the same order."""
    import random

    from tandem.policy.risk import _inside, _nodes_within, _overlaps
    from tandem.slicing.extract import parse

    def whole_walk(root: Any, ranges: list[tuple[int, int]]) -> list[Any]:
        found, stack = [], [root]
        while stack:
            node = stack.pop()
            if _overlaps(node, ranges):
                if _inside(node, ranges):
                    found.append(node)
                stack.extend(reversed(node.children))
        return found

    text = "".join(
        f"# lead {i}\n@dec\ndef f{i}(x):\n    return x; y = {i}\n\nclass C{i}:\n    a = 1\n\n"
        for i in range(40)
    )
    root = parse(text, "python").root_node
    lines = text.count("\n") + 1
    rng = random.Random(4)
    for _ in range(300):
        ranges = []
        for _ in range(rng.randint(1, 3)):
            low = rng.randint(1, lines)
            ranges.append((low, min(lines, low + rng.choice([0, 1, 4, 20]))))
        expected = [(n.start_byte, n.end_byte, n.type) for n in whole_walk(root, ranges)]
        found = [(n.start_byte, n.end_byte, n.type) for n in _nodes_within(root, ranges)]
        assert found == expected, ranges

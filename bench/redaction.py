"""Redaction: recall on planted secrets, false positives on look-alikes (by kind), and speed.

The corpus is the one the tests generate (``tests/unit/redaction_corpus.py``, fixed seed). Speed
is measured on realistic prompt text: the example project's source files followed by corpus
samples (code and config with secrets in it), cut to about 4,700 tokens, and on plain code with
no secret at all; medians over N runs, beside a baseline measured in the same run: counting the
same text's tokens offline (which every estimate does anyway). Two more figures: how often the
assignment rule takes a random value for a non-secret (by alphabet and length), and what the
rules find in real code that holds no secrets: every ``.py`` file of the installed libraries
(site-packages of this interpreter). Run: ``python bench/redaction.py [N]``.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT / "tests" / "unit"))

from redaction_corpus import look_alikes, planted_secrets  # noqa: E402

from tandem.cost.tokens import count_tokens  # noqa: E402
from tandem.redaction.redactor import Redactor, redact  # noqa: E402
from tandem.redaction.values import looks_secret  # noqa: E402

EXAMPLE = ROOT / "examples" / "projects_api"
TARGET_TOKENS = 4700


def _prompt_text(with_secrets: bool) -> str:
    code = "\n".join(path.read_text(encoding="utf-8") for path in sorted(EXAMPLE.rglob("*.py")))
    parts = [code]
    if with_secrets:
        parts += [sample.text for sample in planted_secrets()[::7]]
        parts += [sample.text for sample in look_alikes()[::5]]
    text = "\n".join(parts)
    while count_tokens(text) < TARGET_TOKENS:
        text += "\n" + code
    # Cut to the target by lines.
    lines = text.splitlines(keepends=True)
    while count_tokens("".join(lines)) > TARGET_TOKENS:
        lines = lines[: int(len(lines) * 0.98)]
    return "".join(lines)


def _median_ms(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _random_values() -> None:
    import random
    import string

    rng = random.Random(5)
    alphabets = {
        "letters+digits": string.ascii_letters + string.digits,
        "with symbols": string.ascii_letters + string.digits + "!@#%^*-_",
        "hex": "0123456789abcdef",
        "base64": string.ascii_letters + string.digits + "+/",
    }
    print("random values assigned to a secret name, share judged not secret (3000 each):")
    for label, alphabet in alphabets.items():
        shares = []
        for size in (12, 16, 24, 40):
            values = ("".join(rng.choice(alphabet) for _ in range(size)) for _ in range(3000))
            shares.append(f"{size}: {sum(not looks_secret(v) for v in values) / 3000:.1%}")
        print(f"  {label:<15} " + ", ".join(shares))


def _real_code() -> None:
    import sysconfig

    root = Path(sysconfig.get_paths()["purelib"])
    files = [p for p in root.rglob("*.py") if p.stat().st_size < 400_000]
    found: Counter[str] = Counter()
    size = 0
    start = time.perf_counter()
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        size += len(text)
        found.update(Redactor().redact(text).findings)
    seconds = time.perf_counter() - start
    print(
        f"real code without secrets ({len(files)} .py files, {size / 1e6:.1f} MB of "
        f"{root}): {sum(found.values())} findings {dict(found)} in {seconds:.1f} s"
    )


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    planted = planted_secrets()
    missed = Counter[str]()
    for sample in planted:
        result = redact(sample.text)
        if not result.findings or any(part in result.text for part in sample.secrets):
            missed[sample.kind] += 1
    kinds = sorted({sample.kind for sample in planted})
    formats = sorted({sample.format for sample in planted})
    found = len(planted) - sum(missed.values())
    print(f"planted secrets: {len(planted)} of {len(kinds)} kinds in {len(formats)} formats")
    print(f"recall: {found}/{len(planted)} = {found / len(planted):.1%}")
    for kind in kinds:
        if missed[kind]:
            print(f"  missed {kind}: {missed[kind]}")

    others = look_alikes()
    flagged = Counter[str]()
    totals = Counter(sample.kind for sample in others)
    for sample in others:
        if redact(sample.text).findings:
            flagged[sample.kind] += 1
    rate = sum(flagged.values()) / len(others)
    print(f"look-alikes: {len(others)} of {len(totals)} kinds")
    print(f"false positives: {sum(flagged.values())}/{len(others)} = {rate:.1%}")
    for kind in sorted(totals):
        print(f"  {kind:<32} {flagged[kind]}/{totals[kind]}")

    _random_values()
    _real_code()

    Redactor().redact("warm up the compiled rules")
    for label, text in (
        ("code + secrets", _prompt_text(True)),
        ("code, no secrets", _prompt_text(False)),
    ):
        tokens = count_tokens(text)
        ms = _median_ms(lambda text=text: Redactor().redact(text), runs)
        baseline = _median_ms(lambda text=text: count_tokens(text), runs)
        found_here = Redactor().redact(text).count
        print(
            f"speed ({label}): {ms:.2f} ms median for {tokens} tokens, {len(text)} chars "
            f"({ms / tokens * 4700:.2f} ms per 4.7k tokens; {found_here} redactions; {runs} runs); "
            f"counting its tokens: {baseline:.2f} ms (redaction = {ms / baseline:.2f}x that)"
        )


if __name__ == "__main__":
    main()

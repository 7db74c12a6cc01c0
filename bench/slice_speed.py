"""Slicing speed on generated repositories (500 and 5,000 files by default).

For each size it prints the median of:

- index build: parsing every supported file into units and identifiers, one process, no cache
  (files/s, one core);
- ``tandem slice --json`` as a new process, first with no cache and then with the persisted
  cache of ``.tandem/cache`` (what an editor command or a CI step pays);
- ``slice_repository`` in a warm process, twice: with a fresh index object and walk per call
  (what a repeated CLI-style call in one process pays; unchanged files and folders are reused
  by their stat), and from a built index passed with its walked files and exclusions, as the
  language server slices (a ``LiveIndex`` after its background build);
- the incremental reparse of a 150 KB open document after a one-line edit.

Run: ``python bench/slice_speed.py [SIZES...] [--runs N]``, e.g. ``python bench/slice_speed.py
500 5000 --runs 5``. Not part of the test run; numbers are noisy on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))

from tandem.config import Settings  # noqa: E402
from tandem.slicing import slice_repository  # noqa: E402
from tandem.slicing.edit_reparse import Document, TextEdit  # noqa: E402
from tandem.slicing.exclusions import Exclusions  # noqa: E402
from tandem.slicing.files import walk_repository  # noqa: E402
from tandem.slicing.index import RepoIndex, forget_parsed  # noqa: E402
from tandem.slicing.live import LiveIndex  # noqa: E402
from tandem.slicing.result import FileRangeAnchor  # noqa: E402

WORDS = ["parse", "feed", "token", "buffer", "index", "cache", "route", "price", "budget"]
WORDS += ["ledger", "plan", "draft", "review"]


def _name(rng: random.Random) -> str:
    return "_".join(rng.sample(WORDS, 2))


def python_module(rng: random.Random, k: int) -> str:
    funcs = [f"{_name(rng)}_{k}_{i}" for i in range(8)]
    out = ['"""Generated module."""\n\nimport os\n\nLIMIT = 10\n\n']
    out.append(f'class Store{k}:\n    """A store."""\n\n    def __init__(self):\n')
    out.append("        self.items = []\n\n")
    for f in funcs[:3]:
        out.append(f"    def {f}(self, value: int) -> int:\n")
        out += [f"        value = value * {j} + len(self.items)\n" for j in range(6)]
        out.append("        return value\n\n")
    for a, b in zip(funcs[3:], funcs[4:] + funcs[:1], strict=True):
        out.append(f'\ndef {a}(x, y=2):\n    """Doc of {a}."""\n')
        out += [f"    x = {b}(x - 1) if x > {j} else x + {j}\n" for j in range(8)]
        out.append("    return x\n\n")
    return "".join(out)


def python_test(k: int, module: str) -> str:
    out = [f"from pkg.{module} import Store{k}\n\n"]
    for i in range(5):
        out.append(f"\ndef test_store_{k}_{i}():\n    store = Store{k}()\n")
        out += [f"    assert store is not None and {j} >= 0\n" for j in range(4)]
    return "".join(out)


def ts_module(rng: random.Random, k: int) -> str:
    out = [f"/** Generated. */\nexport class Widget{k} {{\n  private n = 0;\n"]
    for i in range(5):
        out.append(f"  {_name(rng).replace('_', '')}{i}(x: number): number {{\n")
        out += [f"    x = x * {j} + this.n;\n" for j in range(5)]
        out.append("    return x;\n  }\n")
    out.append("}\n")
    return "".join(out)


def ts_test(k: int) -> str:
    body = "".join(
        f"  it('works {i}', () => {{ expect(new Widget{k}()).toBeTruthy(); }});\n" for i in range(4)
    )
    head = f"import {{ Widget{k} }} from './widget{k}';\n\n"
    return f"{head}describe('Widget{k}', () => {{\n{body}}});\n"


def go_module(rng: random.Random, k: int) -> str:
    out = [f"package svc\n\n// Server{k} serves.\ntype Server{k} struct {{\n\tn int\n}}\n\n"]
    for i in range(6):
        out.append(f"// Handle{k}x{i} handles.\nfunc (s *Server{k}) Handle{k}x{i}(x int) int {{\n")
        out += [f"\tx = x*{j} + s.n\n" for j in range(5)]
        out.append("\treturn x\n}\n\n")
    return "".join(out)


def go_test(k: int) -> str:
    return 'package svc\n\nimport "testing"\n\n' + "".join(
        f"func TestHandle{k}x{i}(t *testing.T) {{\n\t(&Server{k}{{}}).Handle{k}x{i}(1)\n}}\n\n"
        for i in range(4)
    )


def rust_module(rng: random.Random, k: int) -> str:
    out = [f"/// Engine {k}.\npub struct Engine{k} {{\n    n: i64,\n}}\n\nimpl Engine{k} {{\n"]
    for i in range(5):
        out.append(f"    pub fn run_{i}(&self, x: i64) -> i64 {{\n")
        out += [f"        let x = x * {j} + self.n;\n" for j in range(4)]
        out.append("        x\n    }\n")
    out.append("}\n\n#[cfg(test)]\nmod tests {\n    use super::*;\n")
    out += [
        f"    #[test]\n    fn runs_{i}() {{ Engine{k} {{ n: 1 }}.run_{i}(2); }}\n" for i in range(3)
    ]
    out.append("}\n")
    return "".join(out)


def java_module(k: int) -> str:
    methods = "".join(
        f"    /** Doc. */\n    public int apply{i}(int x) {{\n        return x * {i} + n;\n    }}\n"
        for i in range(6)
    )
    return f"package com.acme;\n\npublic class Rule{k} {{\n    private int n;\n{methods}}}\n"


def java_test(k: int) -> str:
    tests = "".join(
        f"    @Test\n    void applies{i}() {{\n"
        f"        assertEquals(1, new Rule{k}().apply{i}(1));\n    }}\n"
        for i in range(4)
    )
    return f"package com.acme;\n\nclass Rule{k}Test {{\n{tests}}}\n"


def generate(root: Path, n_files: int, seed: int = 7) -> tuple[str, int]:
    """Write about ``n_files`` files (40% Python, 20% TS, 15% Go, 10% Rust, 15% Java; about a
    third of them tests). Returns the path and line of the slice target."""
    rng = random.Random(seed)
    files: dict[str, str] = {}
    k = 0
    while len(files) < n_files:
        pkg = f"p{k // 10}"
        kind = k % 20
        if kind < 8:
            module = f"mod{k}"
            files[f"pkg/{pkg}/{module}.py"] = python_module(rng, k)
            if kind % 2 == 0:
                files[f"tests/{pkg}/test_{module}.py"] = python_test(k, f"{pkg}.{module}")
        elif kind < 12:
            files[f"web/{pkg}/widget{k}.ts"] = ts_module(rng, k)
            if kind % 2 == 0:
                files[f"web/{pkg}/widget{k}.test.ts"] = ts_test(k)
        elif kind < 15:
            files[f"svc/{pkg}/server{k}.go"] = go_module(rng, k)
            files[f"svc/{pkg}/server{k}_test.go"] = go_test(k)
        elif kind < 17:
            files[f"engine/src/{pkg}_e{k}.rs"] = rust_module(rng, k)
        else:
            files[f"java/src/main/java/com/acme/{pkg}/Rule{k}.java"] = java_module(k)
            files[f"java/src/test/java/com/acme/{pkg}/Rule{k}Test.java"] = java_test(k)
        k += 1
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    target = "pkg/p0/mod0.py"
    line = files[target].splitlines().index("        self.items = []") + 4
    return target, line


def medians_ms(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall-clock and CPU milliseconds of ``fn`` (CPU includes child processes)."""
    walls, cpus = [], []
    for _ in range(runs):
        cpu0 = _cpu()
        start = time.perf_counter()
        fn()
        walls.append((time.perf_counter() - start) * 1000)
        cpus.append((_cpu() - cpu0) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def show(label: str, times: tuple[float, float], extra: str = "") -> None:
    wall, cpu = times
    print(f"{label:38} wall {wall:8.1f} ms   cpu {cpu:8.1f} ms{extra}")


def bench_size(n_files: int, runs: int) -> tuple[float, float]:
    """Print one size's figures; return the in-process medians (fresh, built index)."""
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        target, line = generate(repo, n_files)
        settings = Settings()
        walk = walk_repository(repo, Exclusions.load(repo, settings.exclusions))
        size_kb = sum((repo / f).stat().st_size for f in walk.files) // 1024
        print(f"\n== {len(walk.files)} files ({size_kb:,} KB)")

        def build() -> None:
            forget_parsed()
            index = RepoIndex(repo, settings.context.max_file_bytes, persist=False)
            for rel in walk.files:
                index.record(rel)

        build()  # grammars load once per process; that is not index building
        wall, cpu = medians_ms(build, max(1, runs // 2))
        rate = f"  = {len(walk.files) / cpu * 1000:,.0f} files/s per core (cpu)"
        show("index build (no cache, 1 process)", (wall, cpu), rate)

        env = {**os.environ, "PYTHONPATH": str(ROOT / "server")}
        lines = f"{line}-{line}"
        command = [sys.executable, "-m", "tandem", "slice", "--repo", str(repo)]
        command += ["--file", target, "--lines", lines, "--json"]

        def new_process() -> None:
            subprocess.run(command, env=env, check=True, capture_output=True)

        def new_process_no_cache() -> None:
            for cached in (repo / ".tandem" / "cache").glob("*.json"):
                cached.unlink()
            new_process()

        show("tandem slice, new process, no cache", medians_ms(new_process_no_cache, runs))
        new_process()
        show("tandem slice, new process, cached", medians_ms(new_process, runs))

        anchor = FileRangeAnchor(path=target, start_line=line, end_line=line)
        result = slice_repository(repo, anchor, settings)
        got = f"  ({len(result.touched)} touched, {len(result.tests)} tests, {result.tokens} tok)"
        fresh = medians_ms(lambda: slice_repository(repo, anchor, settings), runs * 2)
        show("slice in-process, fresh index + walk", fresh, got)

        live = LiveIndex(repo, settings)
        for _ in live.build_steps():
            pass
        walked, exclusions = live.walk(), live.exclusions

        def from_built_index() -> object:
            return slice_repository(
                repo, anchor, settings, index=live, files=walked, exclusions=exclusions
            )

        # The same slice; whole-file tokens, a comparison figure, the live index sums by chunk.
        ignored = {"whole_file_tokens"}
        if from_built_index().model_dump(exclude=ignored) != result.model_dump(exclude=ignored):
            print("  (the built index's slice differs from the fresh one)")
        built = medians_ms(from_built_index, runs * 2)
        show("slice in-process, built index (as LSP)", built)
        return fresh[0], built[0]


def bench_reparse(runs: int) -> None:
    rng = random.Random(3)
    parts: list[str] = []
    k = 0
    while sum(map(len, parts)) < 150_000:
        parts.append(python_module(rng, k))
        k += 1
    text = "".join(parts)
    doc = Document("big.py", text)
    offset = text.index("    return x\n", len(text) // 2)
    insert = "    x += 1\n"
    reparse: list[float] = []
    units: list[float] = []
    for _ in range(runs * 4):
        before = text[:offset].encode()
        row = before.count(b"\n")
        new = text[:offset] + insert + text[offset:]
        end = len(before) + len(insert)
        edit = TextEdit(len(before), len(before), end, (row, 0), (row, 0), (row + 1, 0))
        start = time.perf_counter()
        doc.apply(new, edit)
        reparse.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        doc.units()
        units.append((time.perf_counter() - start) * 1000)
        text = new
    print(f"\n== a {len(text.encode()) // 1024} KB open document, one-line edit")
    print(f"{'incremental reparse':38} wall {statistics.median(reparse):8.2f} ms")
    print(f"{'units of the reparsed tree':38} wall {statistics.median(units):8.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[500, 5000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(
        f"medians of {args.runs} runs (index build: {max(1, args.runs // 2)}; in-process: ", end=""
    )
    print(f"{args.runs * 2}); cpu = user + system time, children included")
    in_process = {size: bench_size(size, args.runs) for size in args.sizes}
    smallest = min(in_process)
    for size, (fresh, built) in sorted(in_process.items()):
        if size != smallest:
            base_fresh, base_built = in_process[smallest]
            print(
                f"\n{size} vs {smallest} files, in-process medians: fresh index + walk "
                f"x{fresh / base_fresh:.1f}, built index x{built / base_built:.1f}"
            )
    bench_reparse(args.runs)


if __name__ == "__main__":
    main()

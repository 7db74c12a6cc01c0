"""Builders for the small repositories the slicing tests write for themselves."""

from __future__ import annotations

import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path

RepoBuilder = Callable[[dict[str, str | bytes]], Path]


def write_files(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``files`` (path → text, dedented, or bytes) under ``root``."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True
    ).stdout


def git_commit_all(root: Path, message: str = "snapshot") -> None:
    if not (root / ".git").exists():
        git(root, "init", "-q", "-b", "main")
        git(root, "config", "user.email", "tests@example.invalid")
        git(root, "config", "user.name", "Tandem tests")
        git(root, "config", "commit.gpgsign", "false")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


# ---- one small repository per language, shared by the unit, slice and golden tests ----------

PYTHON_REPO: dict[str, str | bytes] = {
    "pkg/__init__.py": "",
    "pkg/shapes.py": '''
        import math

        RATE = 3


        @dataclass
        class Circle:
            """A circle."""

            radius: float

            # The area, in square units.
            @property
            def area(self) -> float:
                return math.pi * self.radius**2


        def scale(c, k):
            """Scale a circle."""
            return Circle(clamp(c.radius * k))


        def clamp(x):
            return max(0.0, x)
        ''',
    "tests/test_shapes.py": """
        import pytest

        from pkg.shapes import Circle, scale


        @pytest.fixture
        def unit_circle():
            return Circle(1)


        def test_area(unit_circle):
            assert unit_circle.area > 3


        class TestScale:
            def test_doubles(self):
                assert scale(Circle(1), 2).radius == 2
        """,
    "tests/test_unrelated.py": """
        def test_strings():
            assert "a" + "b" == "ab"
        """,
}

TS_REPO: dict[str, str | bytes] = {
    "src/cart.ts": """
        import { Item } from "./item";

        /** A cart. */
        export class Cart {
          private items: Item[] = [];

          /** Adds an item. */
          @logged
          add(item: Item): void {
            this.items.push(item);
          }

          total = (): number => this.items.reduce((s, i) => s + i.price, 0);
        }

        export function emptyCart(): Cart {
          return new Cart();
        }
        """,
    "src/cart.test.ts": """
        import { Cart, emptyCart } from "./cart";

        describe("Cart", () => {
          describe("add", () => {
            it("counts items", () => {
              const c = emptyCart();
              c.add({ price: 2 });
              expect(c.total()).toBe(2);
            });
          });
          test.each([1, 2])("totals %i", (n) => {
            expect(emptyCart().total()).toBe(0);
          });
        });
        """,
    "src/Button.tsx": """
        export function Button({ label }: { label: string }) {
          return <button onClick={() => click(label)}>{label}</button>;
        }

        function click(l: string) {
          return l;
        }
        """,
    "src/__tests__/Button.test.tsx": """
        import { Button } from "../Button";

        it("renders the label", () => {
          expect(<Button label="ok" />).toBeTruthy();
        });
        """,
    "lib/util.js": """
        // Adds two numbers.
        function add(a, b) {
          return a + b;
        }

        const mul = (a, b) => a * b;

        module.exports = { add, mul };
        """,
    "lib/util.spec.js": """
        const { add } = require("./util");

        test("adds", () => {
          expect(add(1, 2)).toBe(3);
        });
        """,
}

GO_REPO: dict[str, str | bytes] = {
    "go.mod": "module example.com/app\n\ngo 1.22\n",
    "server/client.go": """
        package server

        // Client talks to the API.
        type Client struct {
            base string
        }

        // NewClient builds a client.
        func NewClient(base string) *Client {
            return &Client{base: trim(base)}
        }

        // Get fetches a path.
        func (c *Client) Get(path string) string {
            return c.base + path
        }

        func trim(s string) string {
            return s
        }
        """,
    "server/client_test.go": """
        package server

        import "testing"

        func TestNewClient(t *testing.T) {
            if NewClient("x").Get("/a") != "x/a" {
                t.Fatal("bad")
            }
        }

        func BenchmarkGet(b *testing.B) {}

        func ExampleClient_Get() {}

        func FuzzGet(f *testing.F) {}

        func helper() {}
        """,
}

RUST_REPO: dict[str, str | bytes] = {
    "Cargo.toml": '[package]\nname = "app"\nversion = "0.1.0"\n',
    "src/parser.rs": """
        use std::fmt;

        /// A parser.
        #[derive(Debug, Default)]
        pub struct Parser {
            buf: String,
        }

        impl Parser {
            /// Feeds input.
            pub fn feed(&mut self, s: &str) {
                self.buf.push_str(s);
            }
        }

        impl fmt::Display for Parser {
            fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "{}", self.buf)
            }
        }

        #[cfg(test)]
        mod tests {
            use super::*;

            fn fresh() -> Parser {
                Parser::default()
            }

            #[test]
            fn feed_appends() {
                let mut p = fresh();
                p.feed("a");
                assert_eq!(p.buf, "a");
            }
        }
        """,
    "tests/parse.rs": """
        use app::Parser;

        #[test]
        fn parses_from_outside() {
            let mut p = Parser::default();
            p.feed("x");
        }
        """,
}

JAVA_REPO: dict[str, str | bytes] = {
    "src/main/java/com/acme/Invoice.java": """
        package com.acme;

        /** An invoice. */
        public class Invoice {
            private final int cents;

            public Invoice(int cents) {
                this.cents = cents;
            }

            /** The total with tax. */
            @Deprecated
            public int totalWithTax(int pct) {
                return cents + cents * pct / 100;
            }
        }
        """,
    "src/test/java/com/acme/InvoiceTest.java": """
        package com.acme;

        import org.junit.jupiter.api.Test;

        class InvoiceTest {
            @Test
            void addsTax() {
                assertEquals(110, new Invoice(100).totalWithTax(10));
            }

            @ParameterizedTest
            @ValueSource(ints = {1, 2})
            void manyTaxes(int pct) {}

            private Invoice make() {
                return new Invoice(1);
            }
        }
        """,
    "src/test/java/com/acme/ClockTest.java": """
        package com.acme;

        class ClockTest {
            @Test
            void ticks() {
                assertEquals(1, 1);
            }
        }
        """,
}

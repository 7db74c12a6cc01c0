"""Which test files pair with a changed file by their names, beyond ``CoreTest``/``test_core``."""

from __future__ import annotations

from pathlib import Path

from slice_repos import RepoBuilder

from tandem.config import Settings
from tandem.slicing import slice_repository
from tandem.slicing.related_files import paired
from tandem.slicing.result import FileRangeAnchor, RelatedTest


def _related(repo: Path, path: str, text: str) -> list[RelatedTest]:
    lines = (repo / path).read_text(encoding="utf-8").splitlines()
    line = next(i for i, s in enumerate(lines, start=1) if text in s)
    anchor = FileRangeAnchor(path=path, start_line=line, end_line=line)
    return slice_repository(repo, anchor, Settings()).tests


def _java_test(package: str, cls: str, method: str) -> str:
    return f"""
        package {package};

        import org.junit.jupiter.api.Test;

        class {cls} {{
            @Test
            void {method}() {{
                Pointer.compile("/a/b");
            }}
        }}
    """


def test_a_java_test_named_after_a_class_and_an_issue_number_pairs_with_the_class(
    make_repo: RepoBuilder,
) -> None:
    repo = make_repo(
        {
            "src/main/java/org/acme/Pointer.java": """
                package org.acme;

                public class Pointer {
                    private final String head;

                    Pointer(String head) {
                        this.head = head;
                    }

                    public static Pointer compile(String text) {
                        return new Pointer(constructHead(text));
                    }

                    static String constructHead(String text) {
                        return text.substring(1);
                    }
                }
            """,
            # Both reach the change only through ``compile``; one is the test of issue 1425.
            "src/test/java/org/acme/ptr/AbsoluteTest.java": _java_test(
                "org.acme.ptr", "AbsoluteTest", "compilesAbsolutePaths"
            ),
            "src/test/java/org/acme/ptr/Pointer1425Test.java": _java_test(
                "org.acme.ptr", "Pointer1425Test", "compilesNestedPaths"
            ),
        }
    )
    path = "src/main/java/org/acme/Pointer.java"
    tests = _related(repo, path, "text.substring(1)")
    assert tests[0].name == "Pointer1425Test.compilesNestedPaths"
    assert "test file pairs with src/main/java/org/acme/Pointer.java" in tests[0].reason


def test_digits_that_are_part_of_a_name_still_have_to_match() -> None:
    assert paired("src/test/java/org/acme/Base64Test.java", "src/main/java/org/acme/Base64.java")
    assert not paired("src/test/java/org/acme/Base64Test.java", "src/main/java/org/acme/Base.java")
    assert paired("sha256_test.go", "sha256.go")
    assert not paired("src/test/java/org/acme/Issue1425Test.java", "src/main/java/org/acme/X.java")

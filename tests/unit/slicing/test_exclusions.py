"""Exclusions: secrets and ignored files are never read into a slice, and the slice says so."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slice_repos import RepoBuilder

from tandem.config import ExclusionSettings, Settings
from tandem.slicing import slice_repository
from tandem.slicing.exclusions import Exclusions
from tandem.slicing.result import DiffAnchor, FileRangeAnchor, WorkingTreeAnchor


@pytest.fixture
def read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files read (``Path.read_bytes`` and ``read_text``) from now on."""
    names: list[str] = []
    real_read_bytes = Path.read_bytes
    real_read_text = Path.read_text

    def spy_bytes(self: Path) -> bytes:
        names.append(self.name)
        return real_read_bytes(self)

    def spy_text(self: Path, *args: object, **kwargs: object) -> str:
        names.append(self.name)
        return real_read_text(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_bytes", spy_bytes)
    monkeypatch.setattr(Path, "read_text", spy_text)
    return names


def defaults(tmp_path: Path) -> Exclusions:
    return Exclusions.load(tmp_path, ExclusionSettings())


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        ".env.local",
        "services/api/.env.production",
        ".envrc",
        "deploy/server.pem",
        "tls/site.key",
        "certs/client.p12",
        "certs/client.pfx",
        "certs/ca.crt",
        "home/.ssh/id_rsa",
        "id_rsa.pub",
        "keys/id_ed25519",
        "keys/id_ecdsa",
        ".netrc",
        ".npmrc",
        "frontend/.npmrc",
        ".pypirc",
        ".git-credentials",
        ".aws/credentials",
        ".aws/config",
        "gcp/credentials.json",
        "credentials-prod.json",
        ".docker/config.json",
        "secrets/db.py",
        "config/secrets/token.txt",
        ".secrets/api.ts",
        "infra/prod.tfvars",
        "node_modules/left-pad/index.js",
        ".tandem/cache/index-v1.json",
    ],
)
def test_the_defaults_exclude_secrets_keys_credentials_and_secret_folders(
    tmp_path: Path, path: str
) -> None:
    assert defaults(tmp_path).excluded(path)


@pytest.mark.parametrize(
    "path",
    ["src/app.py", "environment.py", "src/keys.py", "docs/credits.md", "lib/secret_santa.go"],
)
def test_the_defaults_leave_ordinary_source_alone(tmp_path: Path, path: str) -> None:
    assert not defaults(tmp_path).excluded(path)


def test_gitignore_tandemignore_and_settings_globs_are_all_honoured(
    make_repo: RepoBuilder,
) -> None:
    repo = make_repo(
        {
            ".gitignore": "build/\n*.log\n",
            ".tandemignore": "vendor/\ngenerated_*.py\n",
            "pkg/.gitignore": "local_only.py\n/anchored.py\n",
        }
    )
    ex = Exclusions.load(repo, ExclusionSettings(globs=["legacy/**"]))
    ex.add_nested_gitignore(repo, "pkg")
    assert ex.excluded("build/out.js")
    assert ex.excluded("build", is_dir=True)
    assert ex.excluded("server.log")
    assert ex.excluded("vendor/lib.go")
    assert ex.excluded("src/generated_models.py")
    assert ex.excluded("legacy/old.py")
    assert ex.excluded("pkg/local_only.py")
    assert ex.excluded("pkg/sub/local_only.py")
    assert ex.excluded("pkg/anchored.py")
    assert not ex.excluded("pkg/sub/anchored.py")  # "/anchored.py" is anchored to pkg/
    assert not ex.excluded("local_only.py")  # the nested file applies to its own folder only
    assert not ex.excluded("src/models.py")
    assert ex.sources == [
        ".gitignore",
        ".tandemignore",
        "settings.exclusions.globs",
        "pkg/.gitignore",
    ]


def test_a_nested_tandemignore_applies_to_its_own_folder_like_a_nested_gitignore(
    make_repo: RepoBuilder,
) -> None:
    repo = make_repo({"pkg/.tandemignore": "generated_*.py\n/anchored.py\nfixtures/\n"})
    ex = Exclusions.load(repo, ExclusionSettings())
    ex.add_nested_ignore(repo, "pkg", ".tandemignore")
    assert ex.excluded("pkg/generated_api.py")
    assert ex.excluded("pkg/sub/generated_api.py")  # unanchored: any depth under pkg/
    assert ex.excluded("pkg/anchored.py")
    assert not ex.excluded("pkg/sub/anchored.py")  # "/anchored.py" is anchored to pkg/
    assert ex.excluded("pkg/deep/fixtures", is_dir=True)
    assert not ex.excluded("generated_api.py")  # the nested file applies to its own folder only
    assert not ex.excluded("other/generated_api.py")
    assert ex.sources[-1] == "pkg/.tandemignore"


def test_no_negation_in_a_nested_ignore_file_re_includes_what_the_root_or_settings_exclude(
    make_repo: RepoBuilder,
) -> None:
    repo = make_repo(
        {
            ".tandemignore": "pkg/legacy.py\n",
            "pkg/.tandemignore": "!legacy.py\n!.env\n!*.pem\n!secrets/\n",
            "pkg/.gitignore": "!.env.local\n",
        }
    )
    ex = Exclusions.load(repo, ExclusionSettings())
    ex.add_nested_ignore(repo, "pkg", ".gitignore")
    ex.add_nested_ignore(repo, "pkg", ".tandemignore")
    assert ex.excluded("pkg/legacy.py")
    assert ex.excluded("pkg/.env")
    assert ex.excluded("pkg/.env.local")
    assert ex.excluded("pkg/certs/server.pem")
    assert ex.excluded("pkg/secrets", is_dir=True)


def test_switching_tandemignore_off_switches_off_the_nested_ones_too(
    make_repo: RepoBuilder,
) -> None:
    repo = make_repo({"pkg/.tandemignore": "generated_*.py\n", "pkg/.gitignore": "*.log\n"})
    ex = Exclusions.load(repo, ExclusionSettings(use_tandemignore=False))
    ex.add_nested_ignore(repo, "pkg", ".tandemignore")
    ex.add_nested_ignore(repo, "pkg", ".gitignore")
    assert not ex.excluded("pkg/generated_api.py")
    assert ex.excluded("pkg/server.log")
    assert "pkg/.tandemignore" not in ex.sources


def test_tandem_slice_never_reads_a_file_a_nested_tandemignore_excludes(
    make_repo: RepoBuilder, read: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from tandem.cli import main

    test = "from calc import compute\n\ndef {name}():\n    assert compute(1) == 2\n"
    repo = make_repo(
        {
            "calc.py": "def compute(x):\n    return x + 1\n",
            "tests/.tandemignore": "test_generated_*.py\n",
            "tests/test_generated_calc.py": test.format(name="test_secretly_generated"),
            "tests/deep/test_generated_deep.py": test.format(name="test_deeply_generated"),
            "tests/test_calc.py": test.format(name="test_compute"),
            "other/test_generated_other.py": test.format(name="test_other"),
        }
    )
    code = main(["slice", "--repo", str(repo), "--file", "calc.py", "--lines", "2-2", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    result = json.loads(out)
    ignored = {"tests/test_generated_calc.py", "tests/deep/test_generated_deep.py"}
    assert ignored <= set(result["excluded"])
    assert "test_generated_calc.py" not in read and "test_generated_deep.py" not in read
    assert "test_secretly_generated" not in out and "test_deeply_generated" not in out
    # The rest is read as before: the folder's other test, and the same name elsewhere.
    assert {test["name"] for test in result["tests"]} >= {"test_compute", "test_other"}
    assert "other/test_generated_other.py" not in result["excluded"]


def test_a_gitignore_negation_cannot_re_include_a_secret_the_settings_exclude(
    make_repo: RepoBuilder,
) -> None:
    repo = make_repo({".gitignore": "*.log\n!.env\n!*.pem\n"})
    ex = Exclusions.load(repo, ExclusionSettings())
    assert ex.excluded(".env")
    assert ex.excluded("certs/server.pem")


def test_gitignore_and_tandemignore_can_be_switched_off(make_repo: RepoBuilder) -> None:
    repo = make_repo({".gitignore": "build/\n", ".tandemignore": "vendor/\n"})
    ex = Exclusions.load(
        repo, ExclusionSettings(globs=[], use_gitignore=False, use_tandemignore=False)
    )
    assert not ex.excluded("build/out.js")
    assert not ex.excluded("vendor/lib.go")


def test_an_excluded_file_in_a_diff_is_listed_and_never_read(
    make_repo: RepoBuilder, settings: Settings, read: list[str]
) -> None:
    secret = "API_TOKEN=sk-live-do-not-send\n"
    repo = make_repo(
        {
            ".env": secret,
            "secrets/keys.py": "TOKEN = 'sk-live-do-not-send'\n",
            "app.py": "def main():\n    return 1\n",
        }
    )
    diff = (
        "--- a/.env\n+++ b/.env\n@@ -1 +1 @@\n-API_TOKEN=old\n+"
        + secret
        + "--- a/secrets/keys.py\n+++ b/secrets/keys.py\n@@ -1 +1 @@\n-TOKEN = 'x'\n"
        "+TOKEN = 'sk-live-do-not-send'\n"
        "--- a/app.py\n+++ b/app.py\n@@ -1,2 +1,2 @@\n def main():\n-    return 0\n+    return 1\n"
    )
    result = slice_repository(repo, DiffAnchor(diff=diff), settings)
    assert ".env" in result.excluded
    assert "secrets/" in result.excluded or "secrets/keys.py" in result.excluded
    assert ".env" not in read and "keys.py" not in read
    assert "sk-live" not in result.text
    assert [t.name for t in result.touched] == ["main"]


def test_a_range_in_an_excluded_file_slices_nothing_and_says_why(
    make_repo: RepoBuilder, settings: Settings
) -> None:
    repo = make_repo({"secrets/keys.py": "TOKEN = 'sk-live'\n"})
    result = slice_repository(
        repo, FileRangeAnchor(path="secrets/keys.py", start_line=1, end_line=1), settings
    )
    assert result.touched == []
    assert "sk-live" not in result.text
    assert any("secrets/keys.py: excluded" in w for w in result.warnings)
    assert not any("nothing changed" in w for w in result.warnings)


def test_excluded_files_of_any_language_are_listed_in_the_slice(
    make_repo: RepoBuilder, settings: Settings
) -> None:
    repo = make_repo(
        {
            ".env": "A=1\n",
            "deploy/tls.key": "-----BEGIN PRIVATE KEY-----\n",
            ".gitignore": "dist/\n",
            "dist/bundle.js": "var a = 1;\n",
            "app.py": "def main():\n    return 1\n",
        }
    )
    result = slice_repository(
        repo, FileRangeAnchor(path="app.py", start_line=2, end_line=2), settings
    )
    assert {".env", "deploy/tls.key", "dist/"} <= set(result.excluded)


PATTERN_POOL = [
    *ExclusionSettings().globs,
    "build/",
    "*.log",
    "/dist",
    "docs/*.md",
    "**/gen/**",
    "foo/**/bar",
    "a?b",
    "[ab].py",
    "!keep.pem",
    "!src/**/*.key",
    "*.py[cod]",
    "*",
    "!*.py",
    "src/",
    "!/src/app.py",
]
SEGMENTS = ["src", "a", "b", "secrets", "build", "gen", "docs", "foo", "bar", ".env", "x.pem"]
SEGMENTS += ["keep.pem", "app.py", "ab", "axb", "readme.md", "dist", "id_rsa", "node_modules"]


@settings(max_examples=150, deadline=None)
@given(
    patterns=st.lists(st.sampled_from(PATTERN_POOL), max_size=8),
    parts=st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=4),
    is_dir=st.booleans(),
)
def test_the_quick_prefilter_never_changes_the_gitignore_answer(
    patterns: list[str], parts: list[str], is_dir: bool
) -> None:
    from pathspec import GitIgnoreSpec

    spec = GitIgnoreSpec.from_lines(patterns)
    ex = Exclusions(spec=spec)
    path = "/".join(parts)
    exact = spec.match_file(path + ("/" if is_dir else ""))
    assert ex.excluded(path, is_dir=is_dir) == exact


def test_an_untracked_excluded_file_in_the_working_tree_is_listed_and_never_read(
    make_repo: RepoBuilder, settings: Settings
) -> None:
    from slice_repos import git_commit_all

    repo = make_repo({"app.py": "def main():\n    return 1\n"})
    git_commit_all(repo)
    (repo / "secrets").mkdir()
    (repo / "secrets" / "keys.py").write_text("TOKEN = 'sk-live-untracked'\n")
    (repo / "app.py").write_text("def main():\n    return 2\n")
    result = slice_repository(repo, WorkingTreeAnchor(), settings)
    assert [t.name for t in result.touched] == ["main"]
    assert "secrets/" in result.excluded
    assert "sk-live" not in result.text


def test_tests_in_ignored_files_are_never_offered_as_related(
    make_repo: RepoBuilder, settings: Settings
) -> None:
    repo = make_repo(
        {
            ".tandemignore": "tests/test_generated.py\n",
            "calc.py": "def compute(x):\n    return x\n",
            "tests/test_calc.py": "from calc import compute\n\ndef test_compute():\n"
            "    assert compute(1) == 1\n",
            "tests/test_generated.py": "from calc import compute\n\ndef test_compute_gen():\n"
            "    assert compute(2) == 2\n",
        }
    )
    result = slice_repository(
        repo, FileRangeAnchor(path="calc.py", start_line=2, end_line=2), settings
    )
    assert [t.name for t in result.tests] == ["test_compute"]
    assert "tests/test_generated.py" in result.excluded

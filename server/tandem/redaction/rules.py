"""The secret patterns: detect-secrets' regex plugins plus the kinds it lacks, in priority order."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from urllib.parse import unquote


@dataclass(frozen=True)
class Rule:
    """One pattern and how to read its matches."""

    kind: str
    pattern: re.Pattern[str]
    group: int | str = 0
    check_example: bool = True
    validate: Callable[[str], bool] | None = None
    needles: tuple[str, ...] = ()
    """The rule runs only on text that contains one of these (a fast substring test)."""
    fold: bool = False
    """Look for the needles in the lower-cased text."""
    extend_back: int = 0
    """Characters before the match that belong to the secret (checked by a lookbehind)."""
    bounded: bool = True
    """A token stands alone: a match inside a longer run of letters and digits (DNA, base64
    data, a longer hash) is not one."""


# --- rules ----------------------------------------------------------------------------------

_PRIVATE_KEY = re.compile(
    r"-----BEGIN[A-Z0-9 ]{0,20} PRIVATE KEY(?: BLOCK)?-----"
    r"(?:(?:[A-Za-z0-9+/=:,\- \t\r\n]|\\+[nr]){0,20000}?-----END[A-Z0-9 ]{0,20} PRIVATE KEY"
    r"(?: BLOCK)?-----|(?:[A-Za-z0-9+/=:,\- \t\r\n]|\\+[nr]){0,20000})"
)
_PUTTY_KEY = re.compile(r"PuTTY-User-Key-File-\d+:[^\n]*(?:\n[A-Za-z-]+:[^\n]*|\n[A-Za-z0-9+/=]+)*")


_DOCUMENTATION_PASSWORDS = frozenset(
    {"password", "pass", "passwd", "pwd", "secret", "a secret", "mysecretpassword", "foo", "bar"}
    | {"baz", "admin", "root", "test", "user", "guest", "changeme", "example"}
)
"""Passwords of documentation and test URLs (``user:password@``, ``foo:bar@``)."""


def _has_key_body(block: str) -> bool:
    """A real key block has key material, not just its header (or "..." in documentation)."""
    body = re.sub(r"\\+[nr]", "\n", block.split("-----", 2)[-1])
    return sum(len(run) for run in re.findall(r"[A-Za-z0-9+/=]{16,}", body)) >= 64


_EXTRA_RULES: tuple[Rule, ...] = (
    Rule("private-key", _PRIVATE_KEY, check_example=False, validate=_has_key_body),
    Rule("private-key", _PUTTY_KEY, check_example=False, validate=_has_key_body),
    Rule(
        "aws-secret-access-key",
        re.compile(
            r"(?i)aws_?secret_?(?:access_?)?key(?:_?id)?[\"']?\s*[:=]+\s*[\"']?"
            r"([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"
        ),
        1,
        needles=("aws",),
        fold=True,
    ),
    Rule("jwt", re.compile(r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*")),
    Rule("gcp-api-key", re.compile(r"AIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])")),
    Rule(
        "azure-client-secret",
        # Literal "Q~" first (a fast scan); the lookbehind checks the 4 characters before it.
        re.compile(
            r"Q~(?<=(?<![A-Za-z0-9_~.\-])[A-Za-z0-9_~.\-]{3}\dQ~)[A-Za-z0-9_~.\-]{31,34}(?![\w~.-])"
        ),
        extend_back=4,
    ),
    Rule(
        "azure-sas-signature",
        re.compile(r"[?&]sig=([A-Za-z0-9%+/]{30,}(?:%3D|=){0,2})"),
        1,
        needles=("sig=",),
    ),
    Rule("github-token", re.compile(r"github_pat_[A-Za-z0-9_]{82}\b")),
    Rule(
        "github-token",
        re.compile(r"(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}\b"),
        needles=("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    ),
    Rule("anthropic-api-key", re.compile(r"sk-ant-(?:api|admin)\d\d-[A-Za-z0-9_\-]{80,120}")),
    Rule(
        "openai-api-key",
        re.compile(r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{40,200}(?![A-Za-z0-9_\-])"),
    ),
    Rule(
        "stripe-key",
        re.compile(r"(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{24,99}\b"),
        needles=("k_live_", "k_test_"),
    ),
    Rule("stripe-key", re.compile(r"whsec_[0-9A-Za-z]{32,64}\b")),
    Rule("npm-token", re.compile(r"npm_[A-Za-z0-9]{36}\b")),
    Rule(
        "telegram-token",
        # The bot id before ':' is not secret; the literal ':' first keeps the scan fast.
        re.compile(r":(?<=\d{8}:)([0-9A-Za-z_\-]{35})(?![0-9A-Za-z_\-])"),
        1,
    ),
    Rule("slack-token", re.compile(r"xapp-\d-[A-Z0-9]+-\d+-[a-f0-9]{32,}\b")),
    Rule(
        "bearer-token",
        re.compile(r"(?:Bearer|Token)\s+([A-Za-z0-9_~+/\-]{24,}\.?[A-Za-z0-9_~+/.\-]*=*)"),
        1,
        needles=("Bearer", "Token"),
    ),
    Rule(
        "connection-string-password",
        re.compile(
            r"://[^\s:/@'\"`<>]{0,100}:([^\s@/:,'\"`<>]{1,200})@"
            r"[A-Za-z0-9.\-\[]"
        ),
        1,
        validate=lambda password: unquote(password).lower() not in _DOCUMENTATION_PASSWORDS,
    ),
)

_SECRET_IN_GROUP = frozenset({"aws.AWSKeyDetector", "npm.NpmDetector"})
"""Plugins whose patterns capture the secret in a group (the others' groups are prefixes)."""

_DETECT_SECRETS_KINDS: dict[str, tuple[str, ...]] = {
    # plugin class -> kind of each of its denylist patterns (in order)
    "aws.AWSKeyDetector": ("aws-access-key-id", "aws-secret-access-key"),
    "azure_storage_key.AzureStorageKeyDetector": ("azure-storage-key",),
    "github_token.GitHubTokenDetector": ("github-token",),
    "gitlab_token.GitLabTokenDetector": ("gitlab-token",),
    "slack.SlackDetector": ("slack-token", "slack-webhook"),
    "stripe.StripeDetector": ("stripe-key",),
    "jwt.JwtTokenDetector": ("jwt",),
    "openai.OpenAIDetector": ("openai-api-key",),
    "sendgrid.SendGridDetector": ("sendgrid-key",),
    "twilio.TwilioKeyDetector": ("twilio-key",),
    "mailchimp.MailchimpDetector": ("mailchimp-key",),  # runs only where "-us" occurs
    "npm.NpmDetector": ("npm-token",),
    "pypi_token.PypiTokenDetector": ("pypi-token",),
    "discord.DiscordBotTokenDetector": ("discord-token",),
    "square_oauth.SquareOAuthDetector": ("square-oauth-secret",),
}
"""detect-secrets' regex plugins that Tandem uses. Its high-entropy string plugins are left out
(they flag hashes, SHAs and base64 data; assignments are judged by :func:`looks_secret`), and so
is its private-key plugin, which matches a key's header line only (whole blocks are matched
here). Its IBM, SoftLayer, Cloudant and Artifactory plugins are left out too: their patterns
start with a character class or lookbehind, which cost more than all the other rules together on
ordinary code, and the assignment rule covers the same ``name = value`` shapes. The Telegram
pattern is rewritten here to start with its literal ':'.
"""

_DETECT_SECRETS_NEEDLES: dict[str, tuple[tuple[tuple[str, ...], bool], ...]] = {
    # plugin class -> (needles, look in lower-cased text) for each of its patterns
    "aws.AWSKeyDetector": ((("A3T", "ABIA", "ACCA", "AKIA", "ASIA"), False), (("aws",), True)),
    "slack.SlackDetector": ((("xox",), True), (("hooks.slack.com",), True)),
    "stripe.StripeDetector": ((("k_live_",), False),),
    "mailchimp.MailchimpDetector": ((("-us",), False),),
    "twilio.TwilioKeyDetector": ((("AC",), False), (("SK",), False)),
}
"""Substrings without which a pattern cannot match: most text lacks them, and a substring test
is far cheaper than a regex scan that starts with a character class or an alternation."""


def _detect_secrets_rules() -> list[Rule]:
    import importlib

    found: list[Rule] = []
    for qualified, kinds in _DETECT_SECRETS_KINDS.items():
        module_name, class_name = qualified.rsplit(".", 1)
        module = importlib.import_module(f"detect_secrets.plugins.{module_name}")
        plugin = getattr(module, class_name)
        for index, pattern in enumerate(plugin.denylist):
            kind = kinds[min(index, len(kinds) - 1)]
            grouped = qualified in _SECRET_IN_GROUP and pattern.groups
            needles: tuple[str, ...] = ()
            fold = False
            if qualified in _DETECT_SECRETS_NEEDLES:
                needles, fold = _DETECT_SECRETS_NEEDLES[qualified][index]
            found.append(Rule(kind, pattern, 1 if grouped else 0, needles=needles, fold=fold))
    return found


@cache
def all_rules() -> tuple[Rule, ...]:
    """Every rule in priority order: the specific ones first, detect-secrets' after."""
    return (*_EXTRA_RULES, *_detect_secrets_rules())


def is_valid_jwt(token: str) -> bool:
    parts = token.split(".")
    if len(parts) < 2:
        return False
    for part in parts[:2]:
        try:
            padded = part + "=" * (-len(part) % 4)
            json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))
        except (ValueError, UnicodeDecodeError, binascii.Error):
            return False
    return True

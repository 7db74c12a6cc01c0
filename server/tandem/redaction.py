"""Secrets never leave: find secrets in a prompt and replace each with a stable placeholder.

The rule set is detect-secrets' regex plugins (a maintained set: AWS, GitHub, GitLab, Slack,
Stripe, JWT, SendGrid, Twilio, npm, PyPI, ...) plus what it lacks: whole private key blocks (also
JSON-escaped, as in GCP service-account files), GCP API keys, Azure client secrets and SAS
signatures, fine-grained GitHub and newer OpenAI/Anthropic keys, bearer tokens, passwords in
connection strings, and values assigned to names like password/secret/token/api_key in the
assignment syntax of Python, JS/TS, Go, Rust, Java and config files (.env, YAML, TOML, JSON,
properties). A value assigned to such a name is a secret only when it looks like one (long
enough, mixed characters, high entropy, not a placeholder, URL, identifier or UUID).

Each secret becomes ``<<REDACTED:kind:n>>``; the same value gets the same placeholder within one
:class:`Redactor` (one request). Results carry counts by kind, never the values.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import unquote

PLACEHOLDER = re.compile(r"<<\s*REDACTED:([a-z0-9-]+):(\d+)\s*>>")
_PLACEHOLDER_LOOSE = re.compile(r"<<\s*REDACTED\b[^>\n]{0,60}>>|\bREDACTED:[a-z0-9-]+:\d+")

DOCUMENTED_EXAMPLES = frozenset(
    {
        # Values published in vendors' documentation as examples: not anyone's secret.
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9l"
        "IiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    }
)


@dataclass(frozen=True)
class RedactionResult:
    """The redacted text and how many secrets of each kind were replaced (never the values)."""

    text: str
    findings: dict[str, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(self.findings.values())


@dataclass(frozen=True)
class _Rule:
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


_EXTRA_RULES: tuple[_Rule, ...] = (
    _Rule("private-key", _PRIVATE_KEY, check_example=False, validate=_has_key_body),
    _Rule("private-key", _PUTTY_KEY, check_example=False, validate=_has_key_body),
    _Rule(
        "aws-secret-access-key",
        re.compile(
            r"(?i)aws_?secret_?(?:access_?)?key(?:_?id)?[\"']?\s*[:=]+\s*[\"']?"
            r"([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"
        ),
        1,
        needles=("aws",),
        fold=True,
    ),
    _Rule("jwt", re.compile(r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*")),
    _Rule("gcp-api-key", re.compile(r"AIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])")),
    _Rule(
        "azure-client-secret",
        # Literal "Q~" first (a fast scan); the lookbehind checks the 4 characters before it.
        re.compile(
            r"Q~(?<=(?<![A-Za-z0-9_~.\-])[A-Za-z0-9_~.\-]{3}\dQ~)[A-Za-z0-9_~.\-]{31,34}(?![\w~.-])"
        ),
        extend_back=4,
    ),
    _Rule(
        "azure-sas-signature",
        re.compile(r"[?&]sig=([A-Za-z0-9%+/]{30,}(?:%3D|=){0,2})"),
        1,
        needles=("sig=",),
    ),
    _Rule("github-token", re.compile(r"github_pat_[A-Za-z0-9_]{82}\b")),
    _Rule(
        "github-token",
        re.compile(r"(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}\b"),
        needles=("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    ),
    _Rule("anthropic-api-key", re.compile(r"sk-ant-(?:api|admin)\d\d-[A-Za-z0-9_\-]{80,120}")),
    _Rule(
        "openai-api-key",
        re.compile(r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{40,200}(?![A-Za-z0-9_\-])"),
    ),
    _Rule(
        "stripe-key",
        re.compile(r"(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{24,99}\b"),
        needles=("k_live_", "k_test_"),
    ),
    _Rule("stripe-key", re.compile(r"whsec_[0-9A-Za-z]{32,64}\b")),
    _Rule("npm-token", re.compile(r"npm_[A-Za-z0-9]{36}\b")),
    _Rule(
        "telegram-token",
        # The bot id before ':' is not secret; the literal ':' first keeps the scan fast.
        re.compile(r":(?<=\d{8}:)([0-9A-Za-z_\-]{35})(?![0-9A-Za-z_\-])"),
        1,
    ),
    _Rule("slack-token", re.compile(r"xapp-\d-[A-Z0-9]+-\d+-[a-f0-9]{32,}\b")),
    _Rule(
        "bearer-token",
        re.compile(r"(?:Bearer|Token)\s+([A-Za-z0-9_~+/\-]{24,}\.?[A-Za-z0-9_~+/.\-]*=*)"),
        1,
        needles=("Bearer", "Token"),
    ),
    _Rule(
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


def _detect_secrets_rules() -> list[_Rule]:
    import importlib

    rules: list[_Rule] = []
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
            rules.append(_Rule(kind, pattern, 1 if grouped else 0, needles=needles, fold=fold))
    return rules


# --- assignments to secret-sounding names ---------------------------------------------------

_KEYWORD = re.compile(
    r"passw(?:or)?d|passphrase|pass(?![a-z])|pwd|secret|token|credential"
    r"|key(?!word|board|stroke|frame|map|path|press|code|down|up)"
)
"""Searched in the lower-cased text: api_key, access_key, private_key, passwd... all contain one
of these, and literal alternatives on lower-case text scan several times faster than (?i)."""
_KEYWORD_ANY_CASE = re.compile(_KEYWORD.pattern, re.IGNORECASE)
_NAME_CHARS = re.compile(r"[\w$.\-]")
_MAX_NAME = 80
_NAME_TAIL = re.compile(rf"[\w$.\-]{{0,{_MAX_NAME}}}")
_WORD_RUN = re.compile(r"[\w$.\-+/=]*")


def _skip_word(text: str, position: int) -> int:
    """The end of the run of word characters at ``position``."""
    run = _WORD_RUN.match(text, position)
    return run.end() if run else position


_ASSIGNMENT = re.compile(
    r"""(?P<close>["']?)[ \t]*
        (?::[ \t]*&?(?:'static[ \t]+)?[A-Za-z_][\w<>\[\]]*[ \t]*(?==))?   # type annotation
        (?P<op>=>|:=|=(?!=)|:|,|\()[ \t]*
        (?:
          [rbfuRBFU]{0,2}(?P<q>["'`])(?P<quoted>(?:\\.|(?!(?P=q))[^\n\\]){1,500}?)(?P=q)
        | (?P<bare>[^\s'"`,;(){}\[\]<>&|]{6,300})(?=[ \t]*(?:$|[\n,;)}]|//)|[ \t]+\#|&)
        )""",
    re.VERBOSE | re.MULTILINE,
)
_NOT_A_SECRET_NAME = re.compile(
    r"(?i)(?:url|uri|path|file|filename|dir|name|type|field|header|length|len|size|count|prefix"
    r"|format|endpoint|env|var|variable|label|id_name|policy|hint|regex|pattern|expiry|expires"
    r"|expires_in|ttl|timeout|mode|kind|scope|scopes|method|version|algorithm|alg|class|cls"
    r"|hash|sha1|sha256|sha512|md5|checksum|digest|fingerprint|id|arn)$|public"
)
_PLACEHOLDER_WORDS = re.compile(
    r"(?i)example|changeme|change_me|change-me|placeholder|your[_\-. ]|^your|dummy|fake|sample"
    r"|redacted|xxx|\*\*\*|\.\.\.|todo|replace|insert|secret_here|goes_here|_here$|<|>|\$\{|(?-i:#[a-z_]{3,}#)"
    r"|\{\{|%\(|\$\(|process\.env|os\.environ|getenv|env\(|\{[a-z_]*\}"
)
_CAMEL_SEGMENT = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
_SEPARATORS = re.compile(r"[_\-. /:]+")
_DIGITS = re.compile(r"[0-9]+")


def looks_like_words(value: str) -> bool:
    """Identifiers and prose (``created_at``, ``V2_REMOVED_KEYS``, ``IAmSensitive``,
    ``cache_write_5m_mtok``, ``S3AccessPoint``), as opposed to random text.

    Each part between separators must be short (``5m``, ``v2``), a small number, or letters with
    at most two runs of digits (a quarter of the part at most) whose letters read as words:
    segments of three letters on average, nine tenths of them pronounceable (a vowel, no five
    consonants in a row), an acronym or a common abbreviation. Random tokens fail this: on
    random letters and digits of 16+ characters about 1 in 100 passes (``bench/redaction.py``).
    """
    for part in _SEPARATORS.split(value.strip("_$@#%")):
        if len(part) <= 3 or (part.isdigit() and len(part) <= 8):
            continue
        digit_runs = _DIGITS.findall(part)
        letters = _DIGITS.sub("", part)
        if (
            letters.isalpha()
            and len(digit_runs) <= 2
            and len(part) - len(letters) <= len(part) // 4
            and _camel_words(letters)
        ):
            continue
        return False
    return True


def _camel_words(letters: str) -> bool:
    segments = _CAMEL_SEGMENT.findall(letters)
    if "".join(segments) != letters:
        return False
    acronyms = [s for s in segments if s.isupper() and len(s) <= 4]  # TPattern, DBInstances
    in_words = sum(len(s) for s in segments if _is_word_segment(s)) + len("".join(acronyms[:1]))
    return len(letters) / len(segments) >= 3 and in_words >= 0.9 * len(letters)


def _is_word_segment(segment: str) -> bool:
    """A pronounceable word of three letters or more (a vowel, no five consonants in a row),
    or a common vowel-less abbreviation. (One acronym per part is counted separately: random
    text is full of short capital runs.)"""
    lower = segment.lower()
    if lower in _ABBREVIATIONS or lower in _SHORT_WORDS:
        return True
    return len(segment) >= 3 and bool(_VOWEL.search(lower)) and not _CONSONANTS.search(lower)


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


_ABBREVIATIONS = _wordset(
    "db vm ml vpc vpn sql xss dhcp http https tcp udp dns ssl tls ssh jwt xml html css cdn rpc "
    "grpc gcp pdf png jpg svg std msg ctx cfg src dst tmp pkg lib cls fn btn nav txt csv md sdk "
    "cli ssm kms rds ecs eks sns sqs mfa otp ldap smtp imap str ptr fmt buf num err req res "
    "resp mgr svc mcp oidc saml hsm crl csr pkcs rsa ecdsa lsp cjk nan gt ge lt le"
)
"""Vowel-less segments of ordinary identifiers (VpcConnections, SqlInjection, dbSystem)."""
_SHORT_WORDS = _wordset(
    "no or is of to in on at by up as an if it be do go my we id ok io os ui re un de ex am"
)
"""Two-letter words of identifiers (isEnabledFor, NoReturn, ListOrSet)."""
_VOWEL = re.compile(r"[aeiouy]")
_CONSONANTS = re.compile(r"[^aeiouy]{5}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_SETTER = re.compile(
    r"(?:set|with|use)[A-Z_]|(?i:password|passwd|secret|token|api_?key|credentials?)$"
)
_CONFIG_LINE_START = re.compile(r"(?:^[ \t]*(?:export[ \t]+|set[ \t]+|-[ \t]+)?|[;&?])$")
"""What may precede a name whose value is unquoted: a line start (``export``, a YAML list dash)
or a separator of connection and query strings (``;Password=...``, ``&password=...``)."""
_CODE_PATH = re.compile(
    r"[!&*@]*[A-Za-z_$#][\w$#]*(?:(?:\.|::|->|\?\.)[A-Za-z_$#][\w$#]*)+(?:\(\))?"
)
_NUMBER = re.compile(r"0[xXoObB][0-9a-fA-F_]+|[0-9][0-9_.eE+\-]*")
_REPEATED = re.compile(r"(.)\1{5,}")
_TRIVIAL_VALUES = frozenset(
    {
        "password",
        "passwd",
        "pass",
        "secret",
        "token",
        "testing",
        "null",
        "none",
        "true",
        "false",
        "undefined",
    }
)


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    if not value:
        return 0.0
    counts = Counter(value)
    size = len(value)
    return -sum(n / size * math.log2(n / size) for n in counts.values())


def is_placeholder_value(value: str) -> bool:
    """Template text, a documented example or an obvious stand-in ("changeme", "xxx", ...)."""
    return (
        value in DOCUMENTED_EXAMPLES
        or bool(_PLACEHOLDER_WORDS.search(value))
        or bool(_REPEATED.search(value))
        or value.strip().lower() in _TRIVIAL_VALUES
        or bool(PLACEHOLDER.search(value))
    )


def _is_path(value: str) -> bool:
    """/etc/ssl/server.key or ./config/app.yaml; not a base64 value that starts with '/'."""
    head, slash, rest = value.partition("/")
    if not slash or head not in ("", ".", "..", "~"):
        return False
    return all(looks_like_words(part) for part in rest.split("/") if part)


def looks_secret(value: str) -> bool:
    """Whether a value assigned to a secret-sounding name is itself secret-like."""
    if len(value) < 8 or len(value) > 500 or any(c.isspace() for c in value):
        return False
    if is_placeholder_value(value) or "://" in value or _is_path(value):
        return False
    if looks_like_words(value) or _UUID.fullmatch(value) or _CODE_PATH.fullmatch(value):
        return False
    if "\\" in value or "(?" in value or ("[" in value and "]" in value) or "{" in value:
        return False  # a regular expression or a template, not a credential
    if _NUMBER.fullmatch(value):
        return False
    if value.startswith(
        ("sha1-", "sha256-", "sha384-", "sha512-", "$2a$", "$2b$", "$argon", "arn:")
    ):
        return False
    classes = sum(
        (
            any(c.islower() for c in value),
            any(c.isupper() for c in value),
            any(c.isdigit() for c in value),
            any(not c.isalnum() for c in value),
        )
    )
    # Short random values rarely reach 3 bits per character (16 hex digits average about 3.4,
    # and one in seven falls under 3), so the bar is lower below about 20 characters.
    return classes >= 2 and entropy(value) >= min(3.0, math.log2(len(value)) - 1.2)


def _assignment_spans(text: str, lower: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, kind) of secret-like values assigned to secret-sounding names (``lower`` is
    ``text.lower()``)."""
    keywords, haystack = (_KEYWORD, lower) if len(lower) == len(text) else (_KEYWORD_ANY_CASE, text)
    position = 0
    while True:
        keyword = keywords.search(haystack, position)
        if keyword is None:
            return
        start = keyword.start()
        floor = max(0, start - _MAX_NAME)
        while start > floor and _NAME_CHARS.match(text, start - 1):
            start -= 1
        tail = _NAME_TAIL.match(text, keyword.end())
        end = tail.end() if tail else keyword.end()
        position = max(end, keyword.end())
        if start == floor > 0 or end - keyword.end() >= _MAX_NAME:
            # Not a name: a keyword inside a long run of word characters (base64 data, a hash).
            position = _skip_word(text, position)
            continue
        name = text[start:end].strip(".-")
        last = name.rsplit(".", 1)[-1]  # config.api_key, db.password; not token.startswith
        if not _KEYWORD_ANY_CASE.search(last) or _NOT_A_SECRET_NAME.search(last):
            continue
        opened = text[start - 1] if start > 0 and text[start - 1] in "\"'" else ""
        assignment = _ASSIGNMENT.match(text, end)
        if assignment is None:
            continue
        op = assignment.group("op")
        if assignment.group("close") != opened and op != "(":
            continue
        if op == "(" and not _SETTER.match(last):
            continue  # setPassword("..."), .token("..."); not keys("pattern") or any call
        before = text[text.rfind("\n", 0, start) + 1 : start - len(opened)]
        if op == "," and not (opened and before.rstrip().endswith("(")):
            continue  # ("name", "value") as a call's first arguments, not any list of strings
        group = "quoted" if assignment.group("quoted") is not None else "bare"
        if group == "bare" and (op in ("(", ",") or not _CONFIG_LINE_START.search(before)):
            continue  # an unquoted value counts only in config lines (.env, YAML, properties)
        value = assignment.group(group)
        if value != last and looks_secret(value):  # exports.ApiKey = ApiKey is code
            kind = "password" if re.search(r"(?i)pass|pwd", name) else "secret"
            yield assignment.start(group), assignment.end(group), kind
        position = max(position, assignment.end())


# --- the redactor ---------------------------------------------------------------------------


@cache
def _rules() -> tuple[_Rule, ...]:
    return (*_EXTRA_RULES, *_detect_secrets_rules())


def _is_valid_jwt(token: str) -> bool:
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


def _candidates(text: str) -> Iterator[tuple[int, int, str | None]]:
    """Every match of every rule, in priority order (specific rules before assignments).

    A match that turns out to be an example or a placeholder is yielded with kind None: it
    claims its span, so a looser rule cannot match a piece of it as a secret.
    """
    lower = text.lower()
    for rule in _rules():
        haystack = lower if rule.fold else text
        if rule.needles and not any(needle in haystack for needle in rule.needles):
            continue
        for match in rule.pattern.finditer(text):
            group: int | str = rule.group
            if isinstance(group, int) and group and match.group(group) is None:
                group = next((g for g in range(1, len(match.groups()) + 1) if match.group(g)), 0)
            start, end = match.span(group)
            start -= rule.extend_back
            value = text[start:end].strip(" \t\r\n=:\"'")
            if not value:
                continue
            start = text.index(value, start)
            end = start + len(value)
            if (
                (rule.bounded and _inside_a_run(text, start, end))
                or (rule.check_example and is_placeholder_value(value))
                or (rule.kind == "jwt" and not _is_valid_jwt(value))
                or (rule.validate is not None and not rule.validate(value))
            ):
                yield start, end, None
                continue
            yield start, end, rule.kind
    yield from _assignment_spans(text, lower)


def _inside_a_run(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    return before.isalnum() or after.isalnum()


def _choose(candidates: Iterable[tuple[int, int, str | None]]) -> list[tuple[int, int, str]]:
    """Non-overlapping secret spans; an earlier (higher-priority) candidate wins an overlap."""
    taken: list[tuple[int, int, str | None]] = []
    for start, end, kind in candidates:
        if any(start < t_end and t_start < end for t_start, t_end, _ in taken):
            continue
        taken.append((start, end, kind))
    return sorted((start, end, kind) for start, end, kind in taken if kind is not None)


class Redactor:
    """Redacts the texts of one request; a value keeps its placeholder across those texts."""

    def __init__(self) -> None:
        self._placeholders: dict[str, str] = {}
        self._numbers: Counter[str] = Counter()
        self.findings: Counter[str] = Counter()

    def _placeholder(self, kind: str, value: str) -> str:
        known = self._placeholders.get(value)
        if known is None:
            self._numbers[kind] += 1
            known = f"<<REDACTED:{kind}:{self._numbers[kind]}>>"
            self._placeholders[value] = known
        return known

    def redact(self, text: str) -> RedactionResult:
        spans = _choose(_candidates(text))
        found: Counter[str] = Counter()
        parts: list[str] = []
        cursor = 0
        for start, end, kind in spans:
            parts.append(text[cursor:start])
            parts.append(self._placeholder(kind, text[start:end]))
            found[kind] += 1
            cursor = end
        parts.append(text[cursor:])
        self.findings.update(found)
        return RedactionResult(text="".join(parts), findings=dict(sorted(found.items())))

    @property
    def count(self) -> int:
        return sum(self.findings.values())


def redact(text: str) -> RedactionResult:
    """Redact one text on its own (a fresh numbering)."""
    return Redactor().redact(text)


@dataclass(frozen=True)
class RedactedPrompt:
    """A prompt's system and user text as they may leave, and what was replaced in them."""

    system: str
    user: str
    findings: dict[str, int]

    @property
    def count(self) -> int:
        return sum(self.findings.values())


def redact_prompt(system: str, user: str) -> RedactedPrompt:
    """Redact both parts of one request with one numbering (a value keeps its placeholder)."""
    redactor = Redactor()
    redacted_system = redactor.redact(system).text
    redacted_user = redactor.redact(user).text
    return RedactedPrompt(redacted_system, redacted_user, dict(sorted(redactor.findings.items())))


def find_placeholders(text: str) -> list[str]:
    """Redaction placeholders in ``text``, including ones a model mangled slightly."""
    return [match.group(0) for match in _PLACEHOLDER_LOOSE.finditer(text)]


def findings_text(findings: dict[str, int]) -> str:
    """``3 (aws-access-key-id 1, password 2)``, or ``0``."""
    total = sum(findings.values())
    if not total:
        return "0"
    return f"{total} (" + ", ".join(f"{k} {n}" for k, n in sorted(findings.items())) + ")"

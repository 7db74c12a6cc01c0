"""Values assigned to secret-sounding names: found in the assignment syntax of code and config,
and kept only when they look like a secret (long, mixed, high entropy, not a placeholder)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator

from tandem.redaction.placeholders import PLACEHOLDER

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


def assignment_spans(text: str, lower: str) -> Iterator[tuple[int, int, str]]:
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

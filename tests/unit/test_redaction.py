"""Redaction: every planted secret is replaced, look-alikes are left alone, placeholders are
stable within a request and never reveal the value."""

from __future__ import annotations

from collections import Counter

import pytest
from redaction_corpus import FORMATS, LANGUAGES, look_alikes, planted_secrets

from tandem.redaction.placeholders import find_placeholders
from tandem.redaction.redactor import Redactor, findings_text, redact

PLANTED = planted_secrets()
LOOK_ALIKES = look_alikes()


def test_the_corpus_is_as_large_and_varied_as_the_issue_asks() -> None:
    assert len(PLANTED) >= 200
    assert len({sample.kind for sample in PLANTED}) >= 20
    assert {sample.format for sample in PLANTED} == set(FORMATS)
    assert set(LANGUAGES) <= set(FORMATS)
    assert len(LOOK_ALIKES) >= 200


def test_the_corpus_is_deterministic() -> None:
    assert planted_secrets() == PLANTED
    assert look_alikes() == LOOK_ALIKES


@pytest.mark.parametrize(
    "sample", PLANTED, ids=[f"{s.kind}-{s.format}-{i}" for i, s in enumerate(PLANTED)]
)
def test_every_planted_secret_is_redacted(sample: object) -> None:
    from redaction_corpus import Sample

    assert isinstance(sample, Sample)
    result = redact(sample.text)
    for part in sample.secrets:
        assert part not in result.text
    assert result.count >= 1
    assert set(result.findings) <= sample.expected_kinds, result.findings
    assert find_placeholders(result.text)


def test_recall_is_total_and_false_positives_at_most_two_percent() -> None:
    missed = [s for s in PLANTED if any(part in redact(s.text).text for part in s.secrets)]
    flagged = [s.kind for s in LOOK_ALIKES if redact(s.text).findings]
    assert missed == []
    assert len(flagged) / len(LOOK_ALIKES) <= 0.02, Counter(flagged)


def test_the_same_value_gets_the_same_placeholder_within_a_request() -> None:
    token = "ghp_" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5"
    redactor = Redactor()
    system = redactor.redact(f"use {token} for the API")
    user = redactor.redact(f'GITHUB_TOKEN = "{token}"\nother = "ghp_{"Zz9" * 12}"')
    assert "<<REDACTED:github-token:1>>" in system.text
    assert user.text.count("<<REDACTED:github-token:1>>") == 1
    assert "<<REDACTED:github-token:2>>" in user.text
    assert redactor.findings == Counter({"github-token": 3})


def test_a_new_request_numbers_placeholders_afresh() -> None:
    text = 'password = "Tr0ub4dor&3xQ"'
    assert redact(text).text == redact(text).text == 'password = "<<REDACTED:password:1>>"'


def test_results_and_their_text_never_contain_the_value() -> None:
    secret = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dX"
    result = redact(f"stripe.api_key = '{secret}'")
    assert secret not in repr(result)
    assert result.findings == {"stripe-key": 1}
    assert findings_text(result.findings) == "1 (stripe-key 1)"
    assert findings_text({}) == "0"


def test_only_the_password_of_a_connection_string_is_replaced() -> None:
    result = redact("DATABASE_URL=postgres://app:hunter2@db.internal:5432/orders")
    assert result.text == (
        "DATABASE_URL=postgres://app:<<REDACTED:connection-string-password:1>>"
        "@db.internal:5432/orders"
    )


def test_a_json_escaped_private_key_is_replaced_whole() -> None:
    body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7" * 3
    key = f"-----BEGIN PRIVATE KEY-----\\n{body}\\n-----END PRIVATE KEY-----\\n"
    result = redact(f'{{"type": "service_account", "private_key": "{key}"}}')
    assert body not in result.text
    assert '"private_key": "<<REDACTED:private-key:1>>\\n"' in result.text


def test_low_entropy_values_and_code_are_not_secrets() -> None:
    text = (
        'password = "hunter2"\n'  # too short to judge: a test fixture, not a credential
        "token = get_token(user)\n"
        'sort_key = "created_at"\n'
        "api_key = settings.api_key\n"
    )
    assert redact(text).findings == {}


def test_find_placeholders_sees_exact_and_slightly_mangled_placeholders() -> None:
    assert find_placeholders("x = '<<REDACTED:secret:2>>'") == ["<<REDACTED:secret:2>>"]
    assert find_placeholders("x = '<< REDACTED:secret:2 >>'") == ["<< REDACTED:secret:2 >>"]
    assert find_placeholders("key = 'REDACTED:aws-access-key-id:1'") == [
        "REDACTED:aws-access-key-id:1"
    ]
    assert find_placeholders("nothing here, REDACTED as a word is fine") == []


def test_text_without_secrets_comes_back_unchanged() -> None:
    text = "def handler(request):\n    return {'ok': True}\n"
    result = redact(text)
    assert result.text == text
    assert result.count == 0


@pytest.mark.parametrize(
    "line",
    [
        # Lines from real libraries that an earlier version of the rules flagged.
        "index = bisect_right(intervals, key, lo=1, key=_interval_start) - 1",
        "if key_node.tag == 'tag:yaml.org,2002:value':",
        "if final_token.startswith('licenseref-'):",
        "COCOA = {'ASPasswordCredential', 'ASPasswordCredentialIdentity', 'NSURLCredential'}",
        "fiber_force_length_passive=FiberForceLengthPassiveDeGroote2016,",
        "_sasl_keywords = r'SASL_(?:MECH|REALM|AUTHCID|AUTHZID|CBINDING)'",
        "_TOKEN_REF = r'[A-Z]\\w*'",
        "deprecated_removed_keys = V2_REMOVED_KEYS & config_dict.keys()",
        "'price_key': 'cache_write_5m_mtok',",
        "exports.X509KeyUsageExtension = X509KeyUsageExtension;",
        '"KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/4c1731d6-5435-ed4d-be13-d53411a7",',
        "for key in db.keys('autorestore/*'):",
        '"result_key": "DBClusterSnapshots"',
        '"result_key": "VpcPeeringConnections"',
        "emitKey = !!key.emitKey",
        "keyList: c.#keyList,",
        "MIGRATION_LOCK_KEY = 0x7A4D_2025",
        "password: SecretStr",
        '"initial": {"key_sha256": "bb1636883c2707b51c5b7fc26c6927af4430f2e0785a8c7bc886337f91"},',
        'publicKeyToken="1fc8b3b9a1e18e3b"',
        "mhu = MultiHostUrl('https://foo.com:123,foo:bar@bar.com/path')",
        "AAACCATCTCTACCGGTTCGCTTTCACTGGATATCGCGCTTGGGGCAGGTGGTCTGCCGATGGGCCG",
        "toolskey_path = '/usr/share/keys/deploy/known_hosts'",
    ],
)
def test_code_from_real_libraries_is_not_taken_for_a_secret(line: str) -> None:
    assert redact(line).findings == {}


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ('session_key = "3f7a9c0e5b2d"', "secret"),  # short hex is still random
        ("API_TOKEN=/Qk9fP2mQ7vL4zR8tXy3Wd", "secret"),  # base64 may start with '/'
        ('props.setProperty("db.password", "Xk9#fP2m!Q7v")', "password"),
        ('builder.password("Xk9#fP2m!Q7v")', "password"),
        ('conn = "Server=db;User Id=app;Password=Xk9fP2mQ7vL4;"', "password"),
        ("jdbc:postgresql://db/app?user=app&password=Xk9fP2mQ7vL4&ssl=true", "password"),
        ("  - POSTGRES_PASSWORD=Xk9fP2mQ7vL4", "password"),
        ("export GITHUB_TOKEN=ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5", "github-token"),
        ('apiKey: string = "AIzaSyD8sP2mQ7vL4zR8tXy3WdK9fJ6hB1cN0eA"', "gcp-api-key"),
    ],
)
def test_secrets_in_less_common_shapes_are_found(line: str, kind: str) -> None:
    assert redact(line).findings == {kind: 1}

"""A generated corpus for the redaction tests and benchmark (deterministic: one seed).

Planted secrets: random values of every kind Tandem must catch, embedded in Python, JS, TS, Go,
Rust and Java source and in .env, YAML, TOML, JSON and properties files, the way people really
write them. Look-alikes: text that resembles a secret and is not one (lockfile hashes, UUIDs,
test placeholders, documented example keys, base64 images, git SHAs, identifiers assigned to
secret-sounding names, public identifiers...). A test tool, never used by Tandem itself.
"""

from __future__ import annotations

import base64
import json
import random
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass

SEED = 20261130
LANGUAGES = ("python", "javascript", "typescript", "go", "rust", "java")
CONFIGS = ("env", "yaml", "toml", "json", "properties")
FORMATS = LANGUAGES + CONFIGS

ALNUM = string.ascii_letters + string.digits
UPPER_DIGITS = string.ascii_uppercase + string.digits
LOWER_HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "-_"


@dataclass(frozen=True)
class Sample:
    kind: str
    """The planted secret's kind, or the look-alike's category."""
    format: str
    text: str
    secrets: tuple[str, ...] = ()
    """Substrings that must not survive redaction (empty for look-alikes)."""
    expected_kinds: frozenset[str] = frozenset()


def _pick(rng: random.Random, alphabet: str, size: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(size))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _mixed(rng: random.Random, alphabet: str, size: int) -> str:
    """Random text that has at least one lower, upper and digit (a real token usually does)."""
    while True:
        value = _pick(rng, alphabet, size)
        if (
            any(c.islower() for c in value)
            and any(c.isupper() for c in value)
            and any(c.isdigit() for c in value)
        ):
            return value


def _pem(rng: random.Random, label: str) -> tuple[str, tuple[str, ...]]:
    body = base64.b64encode(rng.randbytes(rng.randint(600, 1200))).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    block = f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----"
    return block, tuple(line for line in lines if len(line) >= 32)


# --- secret values by kind: (value, parts that must disappear, names to assign it to) ------------

Generator = Callable[[random.Random], tuple[str, tuple[str, ...]]]


def _one(value: str) -> tuple[str, tuple[str, ...]]:
    return value, (value,)


def _azure_storage(r: random.Random) -> tuple[str, tuple[str, ...]]:
    key = base64.b64encode(r.randbytes(64)).decode()
    text = (
        f"DefaultEndpointsProtocol=https;AccountName=acme{r.randint(1, 99)};AccountKey={key};"
        "EndpointSuffix=core.windows.net"
    )
    return text, (key,)


def _azure_sas(r: random.Random) -> tuple[str, tuple[str, ...]]:
    signature = _mixed(r, ALNUM + "+/", 43)
    url = (
        f"https://acme{r.randint(1, 99)}.blob.core.windows.net/uploads?sv=2022-11-02&ss=b"
        f"&srt=co&sp=rl&se=2027-01-01T00:00:00Z&sig={signature}%3D"
    )
    return url, (signature,)


CONNECTION_STRINGS = (
    "postgres://app:{p}@db.internal:5432/app",
    "postgresql://svc_user:{p}@10.0.3.4/orders?sslmode=require",
    "mongodb+srv://reporting:{p}@cluster0.ab12c.mongodb.net/prod",
    "mysql://root:{p}@mysql.local:3306/shop",
    "redis://:{p}@cache.internal:6379/0",
    "amqp://worker:{p}@rabbit:5672/vhost",
)


def _connection_string(r: random.Random) -> tuple[str, tuple[str, ...]]:
    password = _mixed(r, ALNUM + "!*-_", r.randint(10, 24))
    return r.choice(CONNECTION_STRINGS).format(p=password), (password,)


def _bearer(r: random.Random) -> tuple[str, tuple[str, ...]]:
    token = _mixed(r, ALNUM + "-_", 40)
    return "Bearer " + token, (token,)


SECRET_KINDS: dict[str, tuple[Generator, tuple[str, ...], frozenset[str]]] = {
    "aws-access-key-id": (
        lambda r: _one("AKIA" + _pick(r, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)),
        ("aws_access_key_id", "upstream_id", "AWS_ACCESS_KEY_ID"),
        frozenset({"aws-access-key-id"}),
    ),
    "aws-secret-access-key": (
        lambda r: _one(_mixed(r, B64, 40)),
        ("aws_secret_access_key", "AWS_SECRET_ACCESS_KEY", "awsSecretAccessKey"),
        frozenset({"aws-secret-access-key", "secret"}),
    ),
    "gcp-api-key": (
        lambda r: _one("AIza" + _pick(r, URLSAFE, 35)),
        ("maps_key", "GOOGLE_API_KEY", "geocoder"),
        frozenset({"gcp-api-key"}),
    ),
    "gcp-service-account-key": (
        lambda r: _pem(r, "PRIVATE KEY"),
        ("private_key",),
        frozenset({"private-key"}),  # private_key_id is the key's public identifier
    ),
    "azure-storage-key": (
        _azure_storage,
        ("storage_connection", "AZURE_STORAGE_CONNECTION_STRING", "blobConn"),
        frozenset({"azure-storage-key"}),
    ),
    "azure-client-secret": (
        lambda r: _one(_pick(r, ALNUM, 3) + str(r.randint(0, 9)) + "Q~" + _mixed(r, ALNUM, 34)),
        ("azure_client_secret", "AZURE_CLIENT_SECRET", "aadCredential"),
        frozenset({"azure-client-secret", "secret"}),
    ),
    "azure-sas-token": (
        _azure_sas,
        ("upload_url", "SAS_URL", "blobUrl"),
        frozenset({"azure-sas-signature"}),
    ),
    "github-token": (
        lambda r: _one("ghp_" + _mixed(r, ALNUM, 36)),
        ("github_token", "GH_TOKEN", "ciCredential"),
        frozenset({"github-token"}),
    ),
    "github-fine-grained-token": (
        lambda r: _one("github_pat_" + _mixed(r, ALNUM, 22) + "_" + _mixed(r, ALNUM, 59)),
        ("github_pat", "GITHUB_PAT", "deployCredential"),
        frozenset({"github-token"}),
    ),
    "gitlab-token": (
        lambda r: _one("glpat-" + _mixed(r, URLSAFE, 20)),
        ("gitlab_token", "GITLAB_TOKEN", "registryCredential"),
        frozenset({"gitlab-token"}),
    ),
    "slack-token": (
        lambda r: _one(
            f"xoxb-{r.randint(10**10, 10**12)}-{r.randint(10**10, 10**12)}-"
            + _pick(r, string.ascii_lowercase + string.digits, 24)
        ),
        ("slack_bot_token", "SLACK_BOT_TOKEN", "notifier"),
        frozenset({"slack-token"}),
    ),
    "slack-webhook": (
        lambda r: _one(
            f"https://hooks.slack.com/services/T{_pick(r, UPPER_DIGITS, 8)}/"
            f"B{_pick(r, UPPER_DIGITS, 10)}/{_mixed(r, ALNUM, 24)}"
        ),
        ("alerts_webhook", "SLACK_WEBHOOK", "alertsHook"),
        frozenset({"slack-webhook"}),
    ),
    "stripe-key": (
        lambda r: _one(r.choice(("sk_live_", "rk_live_")) + _mixed(r, ALNUM, 24)),
        ("stripe_secret_key", "STRIPE_API_KEY", "billingClient"),
        frozenset({"stripe-key"}),
    ),
    "rsa-private-key": (
        lambda r: _pem(r, "RSA PRIVATE KEY"),
        ("signing_key", "TLS_KEY", "pem"),
        frozenset({"private-key"}),
    ),
    "openssh-private-key": (
        lambda r: _pem(r, "OPENSSH PRIVATE KEY"),
        ("deploy_key", "SSH_KEY", "identity"),
        frozenset({"private-key"}),
    ),
    "jwt": (
        lambda r: _one(
            _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
            + "."
            + _b64url(
                json.dumps(
                    {
                        "sub": str(r.randint(1, 10**9)),
                        "iat": r.randint(1_600_000_000, 1_800_000_000),
                    }
                ).encode()
            )
            + "."
            + _b64url(r.randbytes(32))
        ),
        ("session_jwt", "SERVICE_JWT", "authHeaderValue"),
        frozenset({"jwt"}),
    ),
    "connection-string-password": (
        _connection_string,
        ("database_url", "DATABASE_URL", "mongoUri"),
        frozenset({"connection-string-password"}),
    ),
    "password-assignment": (
        lambda r: _one(_mixed(r, ALNUM + "!@#%^*-_", r.randint(10, 20))),
        ("db_password", "DB_PASSWORD", "adminPassword", "smtp.password"),
        frozenset({"password"}),
    ),
    "secret-assignment": (
        lambda r: _one(r.choice((_mixed(r, ALNUM, 32), _pick(r, LOWER_HEX, 40) + "a1"))),
        ("api_secret", "SECRET_KEY", "clientSecret", "auth_token", "api_key", "app.secret"),
        frozenset({"secret"}),
    ),
    "sendgrid-key": (
        lambda r: _one("SG." + _mixed(r, URLSAFE, 22) + "." + _mixed(r, URLSAFE, 43)),
        ("mailer", "SENDGRID_API_KEY", "mailTransport"),
        frozenset({"sendgrid-key"}),
    ),
    "twilio-key": (
        lambda r: _one("SK" + _pick(r, LOWER_HEX, 32)),
        ("twilio_sid", "TWILIO_API_KEY", "smsClient"),
        frozenset({"twilio-key"}),
    ),
    "npm-token": (
        lambda r: _one("npm_" + _mixed(r, ALNUM, 36)),
        ("npm_token", "NPM_TOKEN", "publishCredential"),
        frozenset({"npm-token"}),
    ),
    "pypi-token": (
        lambda r: _one("pypi-AgEIcHlwaS5vcmc" + _mixed(r, URLSAFE, 80)),
        ("pypi_token", "TWINE_PASSWORD", "uploadCredential"),
        frozenset({"pypi-token", "password"}),
    ),
    "openai-api-key": (
        lambda r: _one("sk-proj-" + _mixed(r, URLSAFE, 64)),
        ("openai_key", "OPENAI_API_KEY", "llmClient"),
        frozenset({"openai-api-key"}),
    ),
    "anthropic-api-key": (
        lambda r: _one("sk-ant-api03-" + _mixed(r, URLSAFE, 93) + "AA"),
        ("anthropic_key", "ANTHROPIC_API_KEY", "claudeClient"),
        frozenset({"anthropic-api-key"}),
    ),
    "telegram-token": (
        lambda r: _one(f"{r.randint(10**8, 10**9)}:" + _mixed(r, URLSAFE, 35)),
        ("telegram_bot", "TELEGRAM_TOKEN", "botCredential"),
        frozenset({"telegram-token"}),
    ),
    "mailchimp-key": (
        lambda r: _one(_pick(r, LOWER_HEX, 32) + f"-us{r.randint(1, 20)}"),
        ("mailchimp", "MAILCHIMP_API_KEY", "newsletter"),
        frozenset({"mailchimp-key"}),
    ),
    "bearer-token": (
        _bearer,
        ("authorization", "AUTH_HEADER", "authorizationHeader"),
        frozenset({"bearer-token"}),
    ),
}


# --- how each format writes "name = value" ---------------------------------------------------


def _camel(name: str) -> str:
    parts = name.replace(".", "_").lower().split("_")
    return parts[0] + "".join(p.title() for p in parts[1:])


def _snake(name: str) -> str:
    if name.isupper():
        return name.lower()
    out = "".join("_" + c.lower() if c.isupper() else c for c in name).strip("_")
    return out.replace(".", "_").replace("__", "_")


def _upper(name: str) -> str:
    return _snake(name).upper()


def embed(fmt: str, name: str, value: str, rng: random.Random) -> str:
    """``value`` assigned to ``name`` in one of the formats, with some code around it."""
    multiline = "\n" in value
    escaped = json.dumps(value)
    variant = rng.randint(0, 2)
    if fmt == "python":
        if multiline:
            return f'{_upper(name)} = """{value}"""\n\n\ndef load():\n    return {_upper(name)}\n'
        if variant == 0:
            return f'import os\n\n{_upper(name)} = "{value}"\nTIMEOUT = 30\n'
        if variant == 1:
            return (
                f"def client():\n    return Client(\n        {_snake(name)}='{value}',\n"
                "        retries=3,\n    )\n"
            )
        return f'SETTINGS = {{\n    "{_snake(name)}": "{value}",\n    "debug": False,\n}}\n'
    if fmt == "javascript":
        if multiline:
            return f"const {_camel(name)} = `{value}`;\nmodule.exports = {{ {_camel(name)} }};\n"
        if variant == 0:
            return f'const {_camel(name)} = "{value}";\nexport default {_camel(name)};\n'
        return f"const config = {{\n  {_camel(name)}: '{value}',\n  region: 'eu-west-1',\n}};\n"
    if fmt == "typescript":
        if multiline:
            return f"export const {_camel(name)}: string = `{value}`;\n"
        if variant == 0:
            return f'export const {_camel(name)}: string = "{value}";\n'
        return f'const options: Options = {{\n  {_camel(name)}: "{value}",\n  retries: 2,\n}};\n'
    if fmt == "go":
        if multiline:
            return f"var {_camel(name)} = `{value}`\n"
        if variant == 0:
            return f'func setup() {{\n\t{_camel(name)} := "{value}"\n\tuse({_camel(name)})\n}}\n'
        return f'const {_camel(name).title()} = "{value}"\n'
    if fmt == "rust":
        if multiline:
            return f'const {_upper(name)}: &str = r#"{value}"#;\n'
        if variant == 0:
            snake = _snake(name)
            return f'fn setup() {{\n    let {snake} = "{value}";\n    run({snake});\n}}\n'
        return f'const {_upper(name)}: &str = "{value}";\n'
    if fmt == "java":
        if multiline:
            return f'    private static final String {_upper(name)} = """\n{value}""";\n'
        if variant == 0:
            return f'    private static final String {_upper(name)} = "{value}";\n'
        return f'        props.setProperty("{name.lower()}", "{value}");\n'
    if fmt == "env":
        shown = escaped if multiline else (f'"{value}"' if variant == 0 else value)
        return f"# service settings\n{_upper(name)}={shown}\nLOG_LEVEL=info\n"
    if fmt == "yaml":
        if multiline:
            body = "\n".join("    " + line for line in value.splitlines())
            return f"service:\n  {_snake(name)}: |\n{body}\n  replicas: 2\n"
        shown = f'"{value}"' if variant == 0 else value
        return f"service:\n  {_snake(name)}: {shown}\n  replicas: 2\n"
    if fmt == "toml":
        if multiline:
            return f'[service]\n{_snake(name)} = """\n{value}"""\n'
        return f'[service]\n{_snake(name)} = "{value}"\nreplicas = 2\n'
    if fmt == "json":
        return f'{{\n  "{_snake(name)}": {escaped},\n  "replicas": 2\n}}\n'
    if fmt == "properties":
        shown = escaped[1:-1] if multiline else value
        dotted = name.lower().replace("_", ".")
        return f"server.port=8080\n{dotted}={shown}\n"
    raise ValueError(fmt)


def planted_secrets(seed: int = SEED, per_kind: int = 9) -> list[Sample]:
    """``per_kind`` samples of every kind, cycling through the formats."""
    rng = random.Random(seed)
    samples: list[Sample] = []
    for offset, (kind, (generate, names, expected)) in enumerate(SECRET_KINDS.items()):
        for index in range(per_kind):
            value, parts = generate(rng)
            fmt = FORMATS[(offset + index) % len(FORMATS)]
            if kind == "gcp-service-account-key":
                document = {
                    "type": "service_account",
                    "project_id": f"acme-{rng.randint(100, 999)}",
                    "private_key_id": _pick(rng, LOWER_HEX, 40),
                    "private_key": value + "\n",
                    "client_email": "svc@acme.iam.gserviceaccount.com",
                }
                text = json.dumps(document, indent=2)
                if fmt in LANGUAGES:
                    # The file's JSON as a string literal in code: quotes and \n escaped again.
                    literal = json.dumps(json.dumps(document))[1:-1]
                    text = embed(fmt, "service_account_json", literal, rng)
            else:
                text = embed(fmt, rng.choice(names), value, rng)
            samples.append(Sample(kind, fmt, text, parts, expected))
    return samples


# --- look-alikes -----------------------------------------------------------------------------


def _png(rng: random.Random) -> str:
    data = b"\x89PNG\r\n\x1a\n" + rng.randbytes(rng.randint(300, 900))
    return "data:image/png;base64," + base64.b64encode(data).decode()


def _sha(rng: random.Random) -> str:
    return _pick(rng, LOWER_HEX, 40)


LookAlike = Callable[[random.Random, str], str]


def _assign(name: str, value: str) -> LookAlike:
    return lambda r, fmt: embed(fmt, name, value, r)


LOOK_ALIKES: dict[str, LookAlike] = {
    "npm-lockfile-integrity": lambda r, f: (
        '"node_modules/left-pad": {\n  "version": "1.3.0",\n  "resolved": '
        '"https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz",\n  "integrity": "sha512-'
        + base64.b64encode(r.randbytes(64)).decode()
        + '"\n}\n'
    ),
    "cargo-lock-checksum": lambda r, f: (
        f'[[package]]\nname = "serde"\nversion = "1.0.{r.randint(100, 220)}"\n'
        'source = "registry+https://github.com/rust-lang/crates.io-index"\n'
        f'checksum = "{_pick(r, LOWER_HEX, 64)}"\n'
    ),
    "poetry-lock-hash": lambda r, f: (
        f'files = [\n    {{file = "requests-2.32.{r.randint(0, 9)}-py3-none-any.whl", '
        f'hash = "sha256:{_pick(r, LOWER_HEX, 64)}"}},\n]\n'
    ),
    "go-sum": lambda r, f: (
        f"golang.org/x/text v0.{r.randint(3, 20)}.0 h1:"
        + base64.b64encode(r.randbytes(32)).decode()
        + "\n"
    ),
    "uuid": lambda r, f: embed(f, "request_id", str(uuid.UUID(int=r.getrandbits(128))), r),
    "uuid-under-key-name": lambda r, f: embed(
        f, "idempotency_key", str(uuid.UUID(int=r.getrandbits(128))), r
    ),
    "git-sha": lambda r, f: embed(f, "commit", _sha(r), r),
    "git-sha-in-text": lambda r, f: f"# fixed upstream in {_sha(r)}, see git show {_sha(r)[:12]}\n",
    "docker-digest": lambda r, f: f"image: python@sha256:{_pick(r, LOWER_HEX, 64)}\n",
    "base64-image": lambda r, f: embed(f, "logo", _png(r), r),
    "changeme-password": _assign("db_password", "changeme"),
    "xxx-token": lambda r, f: embed(f, "api_token", "x" * r.randint(3, 40), r),
    "your-key-here": _assign("api_key", "your-api-key-here"),
    "angle-placeholder": _assign("client_secret", "<your-client-secret>"),
    "env-interpolation": _assign("DB_PASSWORD", "${DB_PASSWORD}"),
    "template-placeholder": _assign("auth_token", "{{ vault_token }}"),
    "trivial-test-password": _assign("password", "password"),
    "test-token-words": _assign("test_token", "test-token-for-unit-tests"),
    "aws-documented-example": _assign("aws_access_key_id", "AKIAIOSFODNN7EXAMPLE"),
    "aws-documented-secret": _assign(
        "aws_secret_access_key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    ),
    "jwt-io-example": _assign(
        "sample_jwt",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9l"
        "IiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    ),
    "stripe-docs-example": _assign("stripe_key", "sk_test_4eC39HqLyjWDarjtT1zdp7dc"),
    "stripe-publishable-key": lambda r, f: embed(
        f, "publishable", "pk_live_" + _mixed(r, ALNUM, 24), r
    ),
    "github-docs-placeholder": _assign("github_token", "ghp_" + "x" * 36),
    "elided-private-key": lambda r, f: (
        "# put the key here:\n# -----BEGIN RSA PRIVATE KEY-----\n# ...\n"
        "# -----END RSA PRIVATE KEY-----\n"
    ),
    "connection-string-placeholder": _assign(
        "database_url", "postgres://user:password@localhost:5432/app"
    ),
    "connection-string-no-password": lambda r, f: embed(
        f, "database_url", f"postgres://db.internal:{r.randint(5000, 6000)}/app", r
    ),
    "connection-string-env": _assign(
        "database_url", "postgresql://${DB_USER}:${DB_PASS}@${DB_HOST}/app"
    ),
    "url-with-port": lambda r, f: embed(
        f, "token_url", f"https://auth.acme.dev:{r.randint(1000, 9999)}/oauth/token", r
    ),
    "identifier-value": lambda r, f: embed(
        f, r.choice(("sort_key", "primary_key", "partition_key")), "created_at", r
    ),
    "header-name": _assign("api_key_header", "X-Api-Key"),
    "token-type": _assign("token_type", "Bearer"),
    "password-field-name": _assign("password_field", "password_confirmation"),
    "env-var-name": _assign("token_env", "GITHUB_TOKEN"),
    "secret-from-env-python": lambda r, f: (
        'API_KEY = os.environ["API_KEY"]\npassword = os.getenv("DB_PASSWORD", "")\n'
    ),
    "secret-from-env-js": lambda r, f: (
        "const apiKey = process.env.API_KEY;\nconst token = config.auth.token;\n"
    ),
    "secret-from-call": lambda r, f: (
        'secret := os.Getenv("APP_SECRET")\ntoken, err := auth.NewToken(ctx)\n'
        'let password = read_password()?;\nString apiKey = vault.read("api");\n'
    ),
    "attribute-access": lambda r, f: "token = self.token\npassword = request.form.password\n",
    "keyboard-code": lambda r, f: 'if event.key == "ArrowDown":\n    keyboard.press(key)\n',
    "tokenizer": lambda r, f: "tokenizer = Tokenizer(vocab_size=32000)\ntokens = tokenizer(text)\n",
    "file-path": lambda r, f: embed(f, "ssl_key_file", "/etc/ssl/private/server.key", r),
    "content-hash-filename": lambda r, f: (
        f'<script src="/static/main.{_pick(r, LOWER_HEX, 8)}.js"></script>\n'
    ),
    "css-color-and-font": lambda r, f: (
        f".btn {{ color: #{_pick(r, LOWER_HEX, 6)}; }}\n@font-face {{ src: url(data:font/woff2;"
        f"base64,{base64.b64encode(r.randbytes(200)).decode()}); }}\n"
    ),
    "sha256-hex-constant": lambda r, f: embed(f, "expected_sha256", _pick(r, LOWER_HEX, 64), r),
    "version-and-date": _assign("release", "2026.11.30-rc1"),
    "google-oauth-client-id": lambda r, f: embed(
        f,
        "client_id",
        f"{r.randint(10**11, 10**12)}-{_pick(r, string.ascii_lowercase + string.digits, 32)}"
        ".apps.googleusercontent.com",
        r,
    ),
    "sentry-dsn-public": lambda r, f: embed(
        f,
        "sentry_dsn",
        f"https://{_pick(r, LOWER_HEX, 32)}@o{r.randint(1000, 9999)}"
        f".ingest.sentry.io/{r.randint(1000, 9999)}",
        r,
    ),
    "password-hash-test-vector": lambda r, f: (
        "# argon2 hash of the test password, not a secret\n"
        "HASHED = '$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG'\n"
    ),
    "redacted-already": _assign("api_key", "<<REDACTED:secret:1>>"),
    "masked-value": _assign("db_password", "********"),
    "short-word-password": _assign("test_password", "secret"),
}


def look_alikes(seed: int = SEED, per_kind: int = 5) -> list[Sample]:
    """``per_kind`` look-alikes of every category, cycling through the formats."""
    rng = random.Random(seed + 1)
    samples: list[Sample] = []
    for offset, (kind, make) in enumerate(LOOK_ALIKES.items()):
        for index in range(per_kind):
            fmt = FORMATS[(offset + index) % len(FORMATS)]
            samples.append(Sample(kind, fmt, make(rng, fmt)))
    return samples

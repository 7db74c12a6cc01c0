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

Modules: :mod:`.rules` (the patterns), :mod:`.values` (what a value assigned to a
secret-sounding name must look like), :mod:`.placeholders` (the placeholder format, written
and found), :mod:`.redactor` (spans chosen and replaced, per request and per prompt).
"""

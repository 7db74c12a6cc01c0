"""Model providers on the official SDKs (Anthropic, OpenAI, OpenAI-compatible) and a fake one."""

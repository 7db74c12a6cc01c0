"""build_provider: settings to provider, keys read from the environment, SDKs imported lazily."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from provider_wire import GOOD, TEST_KEY

from tandem.config import ModelSettings
from tandem.providers.anthropic_provider import AnthropicProvider
from tandem.providers.fake import FakeProvider
from tandem.providers.openai_compatible import OpenAICompatibleProvider
from tandem.providers.openai_provider import OpenAIProvider
from tandem.providers.registry import build_provider

SERVER = Path(__file__).resolve().parents[3] / "server"


def settings(provider: str, **extra: object) -> ModelSettings:
    return ModelSettings.model_validate({"provider": provider, "model": "m", **extra})


def test_each_provider_name_builds_its_family() -> None:
    env = {"K": TEST_KEY}
    assert isinstance(
        build_provider("a", settings("anthropic", api_key_env="K"), env), AnthropicProvider
    )
    assert isinstance(build_provider("a", settings("openai", api_key_env="K"), env), OpenAIProvider)
    compatible = build_provider("a", settings("openai-compatible"), env)
    assert isinstance(compatible, OpenAICompatibleProvider)
    fake = build_provider("a", settings("fake"), env, fake_replies=[GOOD])
    assert isinstance(fake, FakeProvider) and fake.is_fake


def test_fake_replies_may_be_a_file(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text('{"plan": [{"answer": "x", "confidence": 1}]}')
    fake = build_provider("a", settings("fake"), {}, fake_replies=path)
    assert isinstance(fake, FakeProvider) and fake.remaining() == {"plan": 1}


def test_the_key_never_shows_in_repr() -> None:
    provider = build_provider("strong", settings("anthropic", api_key_env="K"), {"K": TEST_KEY})
    assert TEST_KEY not in repr(provider)


def test_building_and_importing_providers_does_not_import_the_sdks() -> None:
    code = (
        "import sys\n"
        "from tandem.config import ModelSettings\n"
        "from tandem.providers.registry import build_provider\n"
        "import tandem.providers.anthropic_provider, tandem.providers.openai_compatible\n"
        "m = ModelSettings(provider='anthropic', model='m', api_key_env='K')\n"
        "build_provider('strong', m, {'K': 'x'})\n"
        "sdks = ('anthropic', 'openai', 'httpx2')\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] in sdks))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SERVER)},
        check=True,
    )
    assert result.stdout.strip() == "[]"

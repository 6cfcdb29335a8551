"""The function's environment: defaults, ceilings and the errors that name the variable."""

from __future__ import annotations

import pytest

from faalf.settings import PUBLIC_API, ConfigError, Settings

BASE = {"FAALF_API_KEY_SECRET": "va/dev/anthropic-api-key"}


def test_defaults_are_a_cheap_model_and_the_public_api():
    settings = Settings.from_env(BASE)

    assert settings.default_model == "claude-haiku-4-5"
    assert settings.allowed_models == ("claude-haiku-4-5",)
    assert settings.upstream == PUBLIC_API
    assert (settings.max_depth, settings.max_budget_usd) == (2, 1.0)


def test_bedrock_mode_needs_no_secret():
    settings = Settings.from_env({"FAALF_AUTH_MODE": "bedrock", "AWS_REGION": "eu-west-1"})

    assert settings.api_key_secret is None
    assert settings.upstream == "https://bedrock-runtime.eu-west-1.amazonaws.com"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "FAALF_API_KEY_SECRET"),
        ({**BASE, "FAALF_AUTH_MODE": "oauth"}, "FAALF_AUTH_MODE"),
        ({**BASE, "FAALF_MAX_TURNS": "many"}, "FAALF_MAX_TURNS"),
        ({**BASE, "FAALF_MAX_DEPTH": "11"}, "FAALF_MAX_DEPTH"),
        ({**BASE, "FAALF_MAX_BUDGET_USD": "nan"}, "FAALF_MAX_BUDGET_USD"),
        ({**BASE, "FAALF_ALLOWED_MODELS": "a,b", "FAALF_DEFAULT_MODEL": "c"}, "FAALF_DEFAULT"),
        ({**BASE, "ANTHROPIC_BASE_URL": "http://evil.example"}, "ANTHROPIC_BASE_URL"),
        ({**BASE, "FAALF_AGENT_ROLE_ARN": "admin"}, "FAALF_AGENT_ROLE_ARN"),
    ],
    ids=[
        "no secret",
        "auth mode",
        "turns",
        "depth",
        "budget",
        "default model",
        "plain http",
        "agent role",
    ],
)
def test_bad_setting_names_the_variable(env, named):
    with pytest.raises(ConfigError, match=named):
        Settings.from_env(env)

"""The function's configuration, read from its environment (an agent profile's VaLambda sets them).

Read once per invocation: it is a handful of ``os.environ`` lookups, and reading it fresh means a
misconfiguration is reported on the request that hits it, with the variable's name, rather than
crashing the container at import.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

LAMBDA_MAX_RESPONSE = 6 * 1024 * 1024  # a synchronous invocation's response, JSON-encoded
PUBLIC_API = "https://api.anthropic.com"
DEFAULT_MODEL = "claude-haiku-4-5"
AuthMode = Literal["api-key", "bedrock"]
ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}")


class ConfigError(Exception):
    """The function is misconfigured; the message names the variable and what is allowed."""


@dataclass(frozen=True)
class Settings:
    auth_mode: AuthMode
    api_key_secret: str | None
    claude_bin: str
    allowed_models: tuple[str, ...]
    default_model: str
    max_turns: int
    max_budget_usd: float
    max_depth: int
    upstream: str
    safety_margin_s: float
    script_timeout_s: float
    max_scripts: int
    output_cap_bytes: int
    work_root: Path
    secret_max_age_s: int
    is_sandbox: str | None
    agent_role_arn: str | None = None
    max_output_tokens: int = 32_000
    max_response_bytes: int = LAMBDA_MAX_RESPONSE
    region: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        auth_mode = env.get("FAALF_AUTH_MODE", "api-key")
        if auth_mode not in ("api-key", "bedrock"):
            raise ConfigError(f"FAALF_AUTH_MODE={auth_mode!r}: allowed are api-key, bedrock")
        secret = env.get("FAALF_API_KEY_SECRET") or None
        if auth_mode == "api-key" and secret is None:
            raise ConfigError(
                "FAALF_API_KEY_SECRET is not set: give the name or ARN of the Secrets Manager "
                "secret holding the Anthropic API key (or set FAALF_AUTH_MODE=bedrock)"
            )
        models = tuple(m.strip() for m in env.get("FAALF_ALLOWED_MODELS", "").split(",") if m)
        default_model = env.get("FAALF_DEFAULT_MODEL", models[0] if models else DEFAULT_MODEL)
        models = models or (default_model,)
        if default_model not in models:
            raise ConfigError(
                f"FAALF_DEFAULT_MODEL={default_model!r} is not in FAALF_ALLOWED_MODELS "
                f"({', '.join(models)})"
            )
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or ""
        if auth_mode == "bedrock":
            if not region:
                raise ConfigError("AWS_REGION is not set: Bedrock requests are signed for it")
            upstream_variable = "AWS_ENDPOINT_URL_BEDROCK_RUNTIME"
            default = f"https://bedrock-runtime.{region}.amazonaws.com"
        else:
            upstream_variable, default = "ANTHROPIC_BASE_URL", PUBLIC_API
        upstream = (env.get(upstream_variable) or default).rstrip("/")
        if not upstream.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ConfigError(
                f"{upstream_variable}={upstream!r}: must be https:// (plain http only to loopback)"
            )
        agent_role = env.get("FAALF_AGENT_ROLE_ARN") or None
        if agent_role is not None and not ROLE_ARN.fullmatch(agent_role):
            raise ConfigError(f"FAALF_AGENT_ROLE_ARN={agent_role!r}: not an IAM role ARN")
        return cls(
            auth_mode=auth_mode,  # type: ignore[arg-type]
            api_key_secret=secret,
            claude_bin=env.get("FAALF_CLAUDE_BIN", "claude"),
            allowed_models=models,
            default_model=default_model,
            max_turns=_int(env, "FAALF_MAX_TURNS", 20, 1, 500),
            max_budget_usd=_float(env, "FAALF_MAX_BUDGET_USD", 1.0, 0.01, 1000.0),
            max_depth=_int(env, "FAALF_MAX_DEPTH", 2, 0, 10),
            upstream=upstream,
            safety_margin_s=_float(env, "FAALF_SAFETY_MARGIN_S", 10.0, 0.5, 120.0),
            script_timeout_s=_float(env, "FAALF_SCRIPT_TIMEOUT_S", 60.0, 1.0, 900.0),
            max_scripts=_int(env, "FAALF_MAX_SCRIPTS", 20, 0, 1000),
            output_cap_bytes=_int(env, "FAALF_OUTPUT_CAP_BYTES", 256 * 1024, 1024, 2 * 1024**2),
            work_root=Path(env.get("FAALF_WORK_ROOT", "/tmp")),
            secret_max_age_s=_int(env, "FAALF_SECRET_MAX_AGE_S", 3600, 1, 86400),
            is_sandbox=env.get("IS_SANDBOX"),
            agent_role_arn=agent_role,
            region=region,
            max_output_tokens=_int(env, "FAALF_MAX_OUTPUT_TOKENS", 32_000, 1, 128_000),
            max_response_bytes=_int(
                env, "FAALF_MAX_RESPONSE_BYTES", LAMBDA_MAX_RESPONSE, 64 * 1024, LAMBDA_MAX_RESPONSE
            ),
        )


def _int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    return int(_number(env, name, default, lo, hi, int, "an integer"))


def _float(env: Mapping[str, str], name: str, default: float, lo: float, hi: float) -> float:
    return float(_number(env, name, default, lo, hi, float, "a number"))


def _number(
    env: Mapping[str, str],
    name: str,
    default: float,
    lo: float,
    hi: float,
    parse: Callable[[str], float],
    kind: str,
) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = parse(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: not {kind} (allowed {lo}-{hi})") from None
    if not math.isfinite(value) or not lo <= value <= hi:
        raise ConfigError(f"{name}={raw}: allowed {lo}-{hi}")
    return value

"""FAALF agents: the profile (what one agent function may do), the image it runs, and the
role the agent itself acts with."""

from va_platform.components.agent.function import (
    AgentFunctionArgs,
    VaAgent,
    VaAgentArgs,
    agent_lambda,
)
from va_platform.components.agent.image import VaAgentImage, VaAgentImageArgs
from va_platform.components.agent.profile import (
    ANTHROPIC_KEY_SECRET,
    AgentImageSettings,
    AgentProfile,
)
from va_platform.components.agent.role import VaAgentRole, VaAgentRoleArgs

__all__ = [
    "ANTHROPIC_KEY_SECRET",
    "AgentFunctionArgs",
    "AgentImageSettings",
    "AgentProfile",
    "VaAgent",
    "VaAgentArgs",
    "VaAgentImage",
    "VaAgentImageArgs",
    "VaAgentRole",
    "VaAgentRoleArgs",
    "agent_lambda",
]

"""FAALF agents: the profile (what one agent function may do) and the image it runs."""

from components.agent.image import VaAgentImage, VaAgentImageArgs
from components.agent.profile import ANTHROPIC_KEY_SECRET, AgentImageSettings, AgentProfile

__all__ = [
    "ANTHROPIC_KEY_SECRET",
    "AgentImageSettings",
    "AgentProfile",
    "VaAgentImage",
    "VaAgentImageArgs",
]

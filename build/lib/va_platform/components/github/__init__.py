"""GitHub Actions' way into AWS: the OIDC provider and the preview and deploy roles."""

from va_platform.components.github.oidc import VaGithubOidcRole, VaGithubOidcRoleArgs

__all__ = ["VaGithubOidcRole", "VaGithubOidcRoleArgs"]

"""The VA components for every Pulumi language: a component provider over the same classes.

This directory is the plugin Pulumi runs (``PulumiPlugin.yaml``, ``runtime: python``, beside
``__main__.py``: ``python -m va_platform.provider <engine address>``). ``components.py`` holds
the served classes (subclasses of the library's), ``inputs.py`` and ``derive.py`` what they take,
``host.py`` the provider; ``python -m va_platform.provider.schema`` prints its schema and
``make schema`` writes ``schema.json`` and docs/provider-reference.md. How a team adds it, the
type tokens and how the inputs differ from Python: docs/other-languages.md.
"""

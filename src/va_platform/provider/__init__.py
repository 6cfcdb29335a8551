"""The VA components for every Pulumi language: a component provider over the same classes.

``python -m va_platform.provider <engine address>`` is the provider plugin (the repository's
``PulumiPlugin.yaml`` points Pulumi at ``__main__.py``); ``python -m va_platform.provider.schema``
prints its schema (``make schema`` writes ``schema.json``). Which component serves which type
token, and why the inputs look as they do: ``docs/other-languages.md``.
"""

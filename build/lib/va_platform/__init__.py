"""va-platform: the Virtual Agentics Lambda platform as a library.

What a VA team installs to build its Lambdas to the VA Lambda runtime and configuration standard
in its own Pulumi program, in its own repository:

- ``va_platform.components``: the components (``VaLambda``, ``VaNetwork``, ``VaSecret``, ...)
  and their typed args; the public names are that module's ``__all__``.
- ``va_platform.packaging``: reproducible zips and layers from a directory, named after the last
  commit that changed them, so an unchanged function never churns.
- ``va_platform.standard``: the naming, tagging, region and least-privilege conventions, the same
  module the va-guard policy pack checks with (the pack ships a verbatim copy of it).
- ``va_platform.preflight``: ``va-preflight`` / ``python -m va_platform.preflight``, the
  program's resources and va-guard's verdict offline, as a first preview and as an update.

Importing this package imports nothing else: the components load pulumi-aws on first use.
"""

__version__ = "0.2.0"
__all__ = ["__version__"]

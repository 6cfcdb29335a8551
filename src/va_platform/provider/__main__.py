"""The provider plugin's entry point: what Pulumi runs (``PulumiPlugin.yaml``, ``main``)."""

from va_platform.provider.host import serve

if __name__ == "__main__":
    serve()

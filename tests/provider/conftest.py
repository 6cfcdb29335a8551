import pytest

from tests.provider.harness import Engine, ProviderProcess


@pytest.fixture(scope="session")
def provider():
    """The provider plugin, started once as the engine starts it, with our engine and monitor."""
    engine = Engine()
    started = ProviderProcess(engine)
    yield started
    started.close()
    engine.stop()

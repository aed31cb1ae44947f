"""Each test module gets a private local cluster (free ports, its own session directory),
started by moray.init() as a user's program would, and stopped at the module's end."""

import pytest

import moray


@pytest.fixture(scope="module")
def cluster():
    info = moray.init(num_cpus=4)
    yield info
    moray.shutdown()

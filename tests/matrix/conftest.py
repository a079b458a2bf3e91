"""One real Synapse for every Matrix test of the session; each test registers its own users."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from synapse_server import Homeserver, start_homeserver


@pytest.fixture(scope="session")
def homeserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Homeserver]:
    server = start_homeserver(tmp_path_factory.mktemp("synapse"))
    yield server
    server.stop()

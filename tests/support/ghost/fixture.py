"""``ghost_site``: one real Ghost per test session (import it into a test module).

Without ``CI=true`` the tests that use it are skipped, saying why, when Ghost cannot be installed
or started; on CI they fail instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from support.ghost.server import GhostServer, GhostUnavailable, install


@pytest.fixture(scope="session")
def ghost_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GhostServer]:
    try:
        server = GhostServer(install(), tmp_path_factory.mktemp("ghost")).start()
    except GhostUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true, so the real Ghost must run, but: {exc}", pytrace=False)
        pytest.skip(
            "Real Ghost tests skipped (allowed only because CI is not 'true'): Ghost could not "
            f"be installed or started: {exc}"
        )
    try:
        yield server
    finally:
        server.stop()

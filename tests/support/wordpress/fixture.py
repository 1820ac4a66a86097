"""``wordpress_site``: one real WordPress per test session (import it into a test module).

Without ``CI=true`` the tests that use it are skipped, saying why, when WordPress cannot be
installed or started; on CI they fail instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from support.wordpress.server import WordPressServer, WordPressUnavailable, install


@pytest.fixture(scope="session")
def wordpress_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WordPressServer]:
    try:
        install()
        server = WordPressServer(tmp_path_factory.mktemp("wordpress")).start()
    except WordPressUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true, so the real WordPress must run, but: {exc}", pytrace=False)
        pytest.skip(
            "Real WordPress tests skipped (allowed only because CI is not 'true'): WordPress "
            f"could not be installed or started: {exc}"
        )
    try:
        yield server
    finally:
        server.stop()

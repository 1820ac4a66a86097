"""How the Buttondown channel reads Buttondown's answers (error shapes the sandbox cannot all
produce, against ``httpx.MockTransport``)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from staffetta.channels import buttondown_api as api
from staffetta.core.errors import (
    AuthError,
    InputError,
    PermanentError,
    RateLimited,
    TransientError,
    UnknownOutcome,
)


def answer(status: int, **kwargs: object) -> httpx.Response:
    return httpx.Response(status, request=httpx.Request("POST", "https://x/v1/emails"), **kwargs)


@pytest.mark.parametrize(
    ("response", "kind", "words"),
    [
        (answer(401, json={"detail": "Unauthorized"}), AuthError, "refused the API key"),
        (
            answer(403, json={"code": "forbidden", "detail": "Your key has no sending access."}),
            AuthError,
            "Your key has no sending access. (forbidden)",
        ),
        (
            answer(
                422,
                json={"detail": [{"type": "x", "loc": ["body", "metadata"], "msg": "Bad dict"}]},
            ),
            PermanentError,
            "metadata: Bad dict",
        ),
        (
            answer(400, json={"code": "subject_invalid", "detail": "Too long."}),
            PermanentError,
            "Too long. (subject_invalid)",
        ),
        (answer(409), PermanentError, "seen before with other content"),
        (
            answer(503, text="<html>down</html>", headers={"content-type": "text/html"}),
            TransientError,
            "HTTP 503",
        ),
    ],
)
def test_errors_in_buttondowns_words(
    response: httpx.Response, kind: type[Exception], words: str
) -> None:
    error = api.classify(response, now=0.0)
    assert type(error) is kind
    assert words in str(error)


def test_a_rate_limit_says_when_to_come_back() -> None:
    error = api.classify(
        answer(429, json={"detail": "Slow down"}, headers={"Retry-After": "30"}), 0.0
    )
    assert isinstance(error, RateLimited)
    assert error.retry_after == 30.0


def test_api_address() -> None:
    assert api.api_base("") == "https://api.buttondown.com/v1"
    assert api.api_base("http://127.0.0.1:8000/") == "http://127.0.0.1:8000/v1"
    with pytest.raises(InputError, match="https://"):
        api.api_base("http://buttondown.example.org")


def failing(exc: Callable[[httpx.Request], Exception]) -> httpx.AsyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc(request)

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def test_a_lost_answer_is_unknown_for_a_write_and_transient_for_a_read() -> None:
    async with failing(lambda r: httpx.ReadError("lost", request=r)) as http:
        with pytest.raises(UnknownOutcome):
            await api.request(http, "POST", "https://x/v1/emails", api_key="k", now=0.0)
        with pytest.raises(TransientError):
            await api.request(http, "GET", "https://x/v1/emails", api_key="k", now=0.0)
    async with failing(lambda r: httpx.ConnectError("refused", request=r)) as http:
        with pytest.raises(TransientError, match="Could not reach Buttondown"):
            await api.request(http, "POST", "https://x/v1/emails", api_key="k", now=0.0)

"""How the Listmonk channel reads Listmonk's answers (against ``httpx.MockTransport``)."""

from __future__ import annotations

import httpx
import pytest

from staffetta.channels import listmonk_api as api
from staffetta.core.errors import (
    AuthError,
    PermanentError,
    RateLimited,
    TransientError,
    UnknownOutcome,
)


def answer(status: int, **kwargs: object) -> httpx.Response:
    return httpx.Response(
        status, request=httpx.Request("POST", "https://x/api/campaigns"), **kwargs
    )


@pytest.mark.parametrize(
    ("response", "kind", "words"),
    [
        (
            answer(403, json={"message": "invalid API credentials"}),
            AuthError,
            "invalid API credentials",
        ),
        (
            answer(403, json={"message": "permission denied: campaigns:manage"}),
            AuthError,
            "permission denied: campaigns:manage",
        ),
        (answer(400, json={"message": "Invalid list IDs."}), PermanentError, "Invalid list IDs."),
        (answer(404, json={"message": "Campaign not found"}), PermanentError, "could not find"),
        (answer(500, json={"message": "error creating campaign"}), TransientError, "HTTP 500"),
        (answer(429, json={"message": "too many requests"}), RateLimited, "slow down"),
    ],
)
def test_errors_in_listmonks_words(
    response: httpx.Response, kind: type[Exception], words: str
) -> None:
    error = api.classify(response, now=0.0)
    assert type(error) is kind
    assert words in str(error)


async def test_credentials_travel_as_a_token_header_and_lost_answers_are_classified() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        if request.method == "POST":
            raise httpx.ReadError("lost", request=request)
        return httpx.Response(200, json={"data": True})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        response = await api.request(
            http, "GET", "https://x/api/health", user="u", token="t", now=0
        )
        assert api.data_of(response, "health") is True
        with pytest.raises(UnknownOutcome):
            await api.request(http, "POST", "https://x/api/campaigns", user="u", token="t", now=0)
    assert seen == ["token u:t", "token u:t"]

"""The sandbox Listmonk as any HTTP client sees it: answers shaped as Listmonk's documentation and
source describe, including the search and the status rules the channel's recovery relies on."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest

from staffetta.sandbox import SandboxServer

NAME = "listmonk"


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(platforms=[NAME]) as server:
        yield server


@pytest.fixture
def client(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    token = sandbox.issue_token(NAME, "api")
    headers = {"Authorization": f"token api:{token}"}
    with httpx.Client(base_url=sandbox.platform_url(NAME), headers=headers, timeout=5.0) as http:
        yield http


def campaign(client: httpx.Client, name: str, subject: str = "Subject") -> dict[str, object]:
    created = client.post(
        "/api/campaigns", json={"name": name, "subject": subject, "lists": [1], "body": "b"}
    )
    assert created.status_code == 200
    data = created.json()["data"]
    assert isinstance(data, dict)
    return data


def test_credentials(sandbox: SandboxServer, client: httpx.Client) -> None:
    assert client.get("/api/lists/1").json()["data"]["name"] == "Default list"
    token = sandbox.issue_token(NAME, "basic")
    basic = base64.b64encode(f"basic:{token}".encode()).decode()
    with httpx.Client(base_url=sandbox.platform_url(NAME)) as other:
        assert other.get("/api/health").json() == {"data": True}
        assert other.get("/api/lists", headers={"Authorization": f"Basic {basic}"}).is_success
        wrong = other.get("/api/lists", headers={"Authorization": "token api:nope"})
        assert (wrong.status_code, wrong.json()) == (403, {"message": "invalid API credentials"})
        assert other.get("/api/lists").json() == {"message": "invalid session"}


def test_campaigns_start_as_drafts_and_are_checked(client: httpx.Client) -> None:
    created = campaign(client, "First")
    assert created["status"] == "draft"
    assert created["to_send"] == 3
    for bad, message in [
        ({"name": "", "subject": "S", "lists": [1]}, "Invalid length for name."),
        ({"name": "N", "subject": "S", "lists": []}, "Invalid list IDs."),
        ({"name": "N", "subject": "S", "lists": [9]}, "Invalid list IDs."),
        (
            {"name": "N", "subject": "S", "lists": [1], "content_type": "rtf"},
            "Invalid content type.",
        ),
    ]:
        refused = client.post("/api/campaigns", json=bad)
        assert (refused.status_code, refused.json()["message"]) == (400, message)


def test_search_matches_name_and_subject_like_listmonk(client: httpx.Client) -> None:
    campaign(client, "Spring news [staffetta-abc123]")
    campaign(client, "Other", subject="About staffetta-ABC123 too")
    campaign(client, "Unrelated")
    found = client.get("/api/campaigns", params={"query": "staffetta-abc123"}).json()["data"]
    assert [c["name"] for c in found["results"]] == ["Other", "Spring news [staffetta-abc123]"]
    assert found["total"] == 2
    # Listmonk turns spaces into "&" for its full-text search, so a phrase no longer matches.
    spaced = client.get("/api/campaigns", params={"query": "Spring news"}).json()["data"]
    assert spaced["results"] == []
    paged = client.get("/api/campaigns", params={"per_page": 1, "page": 2}).json()["data"]
    assert [c["name"] for c in paged["results"]] == ["Other"]
    bodiless = client.get("/api/campaigns", params={"no_body": "true"}).json()["data"]
    assert {c["body"] for c in bodiless["results"]} == {""}


def test_status_rules(client: httpx.Client) -> None:
    created = campaign(client, "Rules")
    url = f"/api/campaigns/{created['id']}/status"
    refused = client.put(url, json={"status": "paused"})
    assert refused.json() == {"message": "Only active campaigns can be paused."}
    started = client.put(url, json={"status": "running"}).json()["data"]
    assert started["status"] == "running"
    assert started["sent"] == 3
    again = client.put(url, json={"status": "running"})
    assert (again.status_code, again.json()["message"]) == (
        400,
        "Only paused campaigns and drafts can be started.",
    )
    assert client.get("/api/campaigns/99").status_code == 404


def test_media_are_stored_and_served(client: httpx.Client) -> None:
    uploaded = client.post("/api/media", files={"file": ("a b.png", b"\x89PNGdata", "image/png")})
    media = uploaded.json()["data"]
    assert media["filename"] == "a-b.png"
    served = client.get(media["url"])
    assert (served.content, served.headers["content-type"]) == (b"\x89PNGdata", "image/png")
    second = client.post("/api/media", files={"file": ("a b.png", b"other", "image/png")})
    assert second.json()["data"]["url"] != media["url"]

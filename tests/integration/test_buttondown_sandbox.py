"""The sandbox Buttondown as any HTTP client sees it: its answers follow Buttondown's documented
API, above all the idempotency-key replay the channel's crash safety rests on."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image as PILImage

from staffetta.sandbox import SandboxServer

NAME = "buttondown"


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(platforms=[NAME]) as server:
        yield server


@pytest.fixture
def client(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    key = sandbox.issue_token(NAME, "jane")
    headers = {"Authorization": f"Token {key}"}
    with httpx.Client(base_url=sandbox.platform_url(NAME), headers=headers, timeout=5.0) as http:
        yield http


def png(colour: tuple[int, int, int] = (9, 9, 9)) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (8, 8), colour).save(out, "PNG")
    return out.getvalue()


def test_keys_are_checked(sandbox: SandboxServer, client: httpx.Client) -> None:
    assert client.get("/v1/accounts/me").json()["username"] == "jane"
    with httpx.Client(base_url=sandbox.platform_url(NAME)) as anonymous:
        assert anonymous.get("/v1/ping").status_code == 200
        refused = anonymous.get("/v1/emails", headers={"Authorization": "Token nope"})
    assert refused.status_code == 401
    assert refused.json() == {"detail": "Unauthorized"}


def test_same_key_same_request_replays_the_first_answer(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    email = {"subject": "Hello", "body": "Hi", "status": "draft"}
    first = client.post("/v1/emails", json=email, headers={"X-Idempotency-Key": "k-1"})
    again = client.post("/v1/emails", json=email, headers={"X-Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert len(sandbox.posts(NAME)) == 1


def test_same_key_other_request_is_a_conflict(sandbox: SandboxServer, client: httpx.Client) -> None:
    headers = {"X-Idempotency-Key": "k-2"}
    client.post("/v1/emails", json={"subject": "A", "status": "draft"}, headers=headers)
    other = client.post("/v1/emails", json={"subject": "B", "status": "draft"}, headers=headers)
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"
    assert [e["subject"] for e in sandbox.posts(NAME)] == ["A"]


def test_keys_expire_and_are_scoped_to_the_api_key(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    email = {"subject": "Hello", "status": "draft"}
    client.post("/v1/emails", json=email, headers={"X-Idempotency-Key": "k-3"})
    other_key = {"Authorization": f"Token {sandbox.issue_token(NAME)}", "X-Idempotency-Key": "k-3"}
    assert client.post("/v1/emails", json=email, headers=other_key).status_code == 201
    sandbox.set_clock_offset(86400 + 1)
    client.post("/v1/emails", json=email, headers={"X-Idempotency-Key": "k-3"})
    assert len(sandbox.posts(NAME)) == 3
    too_long = client.post("/v1/emails", json=email, headers={"X-Idempotency-Key": "x" * 201})
    assert too_long.status_code == 400


def test_a_server_error_is_not_replayed(sandbox: SandboxServer, client: httpx.Client) -> None:
    sandbox.set_fault(NAME, "500", count=1)
    email = {"subject": "Hello", "status": "draft"}
    headers = {"X-Idempotency-Key": "k-4"}
    assert client.post("/v1/emails", json=email, headers=headers).status_code == 500
    assert client.post("/v1/emails", json=email, headers=headers).status_code == 201


@pytest.mark.parametrize(
    ("email", "code"),
    [
        ({"subject": ""}, "subject_invalid"),
        ({"subject": "S", "status": "sent"}, "status_invalid"),
        (
            {"subject": "S", "status": "draft", "body": "---\ntitle: x\n---\nbody"},
            "body_contains_frontmatter",
        ),
        ({"subject": "S", "status": "scheduled"}, "publish_date_missing"),
        ({"subject": "S"}, "sending_requires_confirmation"),  # about_to_send by default
    ],
)
def test_refused_emails(client: httpx.Client, email: dict[str, str], code: str) -> None:
    refused = client.post("/v1/emails", json=email)
    assert refused.status_code == 400
    assert refused.json()["code"] == code
    assert refused.json()["detail"]


def test_sending_is_confirmed_once_per_key(sandbox: SandboxServer, client: httpx.Client) -> None:
    dangerous = {"X-Buttondown-Live-Dangerously": "true"}
    assert client.post("/v1/emails", json={"subject": "One"}, headers=dangerous).status_code == 201
    assert client.post("/v1/emails", json={"subject": "Two"}).status_code == 201
    assert [e["status"] for e in sandbox.posts(NAME)] == ["sent", "sent"]


def test_images_are_deduplicated_and_served(sandbox: SandboxServer, client: httpx.Client) -> None:
    first = client.post("/v1/images", files={"image": ("a.png", png(), "image/png")})
    again = client.post("/v1/images", files={"image": ("b.png", png(), "image/png")})
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert client.get(first.json()["image"]).content == png()
    text = client.post("/v1/images", files={"image": ("a.svg", b"<svg/>", "image/svg+xml")})
    assert text.status_code == 422
    assert text.json()["detail"][0]["type"] == "value_error.file_extension"


def test_listing_defaults_to_sent_emails_in_pages(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    sandbox.configure(NAME, page_size=2, confirm_sending=False)
    for number in range(3):
        client.post("/v1/emails", json={"subject": f"Sent {number}"})
    client.post("/v1/emails", json={"subject": "Draft", "status": "draft"})
    page = client.get("/v1/emails").json()
    assert page["count"] == 3
    assert [e["subject"] for e in page["results"]] == ["Sent 2", "Sent 1"]
    rest = client.get(page["next"]).json()
    assert [e["subject"] for e in rest["results"]] == ["Sent 0"]
    assert rest["next"] is None
    drafts = client.get("/v1/emails", params={"status": "draft"}).json()
    assert [e["subject"] for e in drafts["results"]] == ["Draft"]

"""The sandbox as clients see it: real sockets, real httpx, every fault mode, the Mastodon API."""

from __future__ import annotations

import base64
import hashlib
import ssl
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from staffetta.sandbox import FAULT_MODES, SandboxServer, count_characters

# Building a client's default SSL context costs ~0.1 s; the sandbox is plain http, so every
# client of this module shares one (still the verifying default).
TLS = ssl.create_default_context()
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 200
REDIRECT = "http://127.0.0.1/callback"


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(platforms=["mastodon", "mastodon2"]) as sandbox:
        yield sandbox


@pytest.fixture
def client(server: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.platform_url("mastodon"), timeout=5.0, verify=TLS) as http:
        yield http


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """A client without a base URL (``httpx.get`` would build a new client per call)."""
    with httpx.Client(timeout=5.0, verify=TLS) as plain:
        yield plain


@pytest.fixture
def auth(server: SandboxServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.issue_token('mastodon')}"}


def post(
    client: httpx.Client, auth: dict[str, str], text: str, key: str | None = None
) -> httpx.Response:
    headers = {**auth, **({"Idempotency-Key": key} if key else {})}
    return client.post("/api/v1/statuses", headers=headers, data={"status": text})


def challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def register(client: httpx.Client, redirect: str = REDIRECT) -> dict[str, Any]:
    reply = client.post(
        "/api/v1/apps",
        data={"client_name": "Staffetta", "redirect_uris": redirect, "scopes": "read write"},
    )
    assert reply.status_code == 200
    app: dict[str, Any] = reply.json()
    return app


def authorize(
    client: httpx.Client, app: dict[str, Any], redirect: str, **extra: str
) -> httpx.Response:
    params = {
        "response_type": "code",
        "client_id": app["client_id"],
        "redirect_uri": redirect,
        "scope": "read write",
        **extra,
    }
    return client.get("/oauth/authorize", params=params)


# --- Mastodon API ----------------------------------------------------------------------------


def test_health_instance_and_prefix_route(
    server: SandboxServer, client: httpx.Client, http: httpx.Client
) -> None:
    health = client.get("/health")
    assert health.status_code == 200
    assert health.json() == {"status": "UP"}
    via_prefix = http.get(f"{server.url}/mastodon/api/v2/instance")
    config = via_prefix.json()["configuration"]
    assert via_prefix.json()["version"] == "4.4.0"
    assert config["statuses"] == {
        "max_characters": 500,
        "max_media_attachments": 4,
        "characters_reserved_per_url": 23,
    }
    assert config["media_attachments"]["description_limit"] == 1500
    assert config["media_attachments"]["image_size_limit"] == 16_777_216
    assert http.get(f"{server.url}/nowhere/health").status_code == 404


def test_oauth_pkce_success_passes_state_and_code_is_single_use(client: httpx.Client) -> None:
    app = register(client)
    assert app["redirect_uris"] == [REDIRECT]
    assert app["client_secret"]
    verifier = "v" * 64
    loopback = "http://127.0.0.1:49152/callback"  # RFC 8252: a loopback port may vary
    reply = authorize(
        client, app, loopback, state="s-123", code_challenge=challenge(verifier),
        code_challenge_method="S256",
    )  # fmt: skip
    assert reply.status_code == 302
    location = urlsplit(reply.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == loopback
    query = parse_qs(location.query)
    assert query["state"] == ["s-123"]
    form = {
        "grant_type": "authorization_code",
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "redirect_uri": loopback,
        "code": query["code"][0],
        "code_verifier": verifier,
    }
    token = client.post("/oauth/token", data=form)
    assert token.status_code == 200
    body = token.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "read write"
    assert isinstance(body["created_at"], int)
    me = client.get(
        "/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )
    assert me.status_code == 200
    assert {"id", "username", "acct", "display_name", "url", "avatar"} <= set(me.json())
    again = client.post("/oauth/token", data=form)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_oauth_wrong_verifier_and_bad_client_fail(client: httpx.Client) -> None:
    app = register(client)
    reply = authorize(
        client, app, REDIRECT, code_challenge=challenge("right" * 10), code_challenge_method="S256"
    )
    code = parse_qs(urlsplit(reply.headers["location"]).query)["code"][0]
    assert "state" not in parse_qs(urlsplit(reply.headers["location"]).query)
    form = {
        "grant_type": "authorization_code",
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "redirect_uri": REDIRECT,
        "code": code,
        "code_verifier": "wrong" * 10,
    }
    wrong = client.post("/oauth/token", data=form)
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    bad_client = client.post("/oauth/token", json={**form, "client_secret": "nope"})
    assert bad_client.status_code == 401
    assert bad_client.json()["error"] == "invalid_client"
    right = client.post("/oauth/token", json={**form, "code_verifier": "right" * 10})
    assert right.status_code == 200


def test_oauth_oob_and_authorize_errors(client: httpx.Client) -> None:
    oob = "urn:ietf:wg:oauth:2.0:oob"
    app = register(client, f"{oob}\n{REDIRECT}")
    assert app["redirect_uris"] == [oob, REDIRECT]
    page = authorize(client, app, oob)
    assert page.status_code == 200
    assert '<code id="oob-code">' in page.text
    unknown = authorize(client, {"client_id": "nope"}, REDIRECT)
    assert unknown.status_code == 400
    unregistered = authorize(client, app, "http://example.com/evil")
    assert unregistered.status_code == 400
    bad_scope = authorize(client, app, REDIRECT, scope="admin:write", state="s")
    assert parse_qs(urlsplit(bad_scope.headers["location"]).query) == {
        "error": ["invalid_scope"],
        "state": ["s"],
    }


def test_revoked_tokens_get_401(server: SandboxServer, client: httpx.Client) -> None:
    good = {"Authorization": f"Bearer {server.issue_token('mastodon')}"}
    assert client.get("/api/v1/accounts/verify_credentials", headers=good).status_code == 200
    server.revoke_tokens("mastodon")
    reply = client.get("/api/v1/accounts/verify_credentials", headers=good)
    assert reply.status_code == 401
    assert reply.json() == {"error": "The access token is invalid"}
    assert client.post("/api/v1/statuses", data={"status": "anonymous"}).status_code == 401

    app = register(client)
    code_reply = authorize(client, app, REDIRECT)
    code = parse_qs(urlsplit(code_reply.headers["location"]).query)["code"][0]
    token = client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "redirect_uri": REDIRECT,
            "code": code,
        },
    ).json()["access_token"]
    revoke = client.post(
        "/oauth/revoke",
        data={"client_id": app["client_id"], "client_secret": app["client_secret"], "token": token},
    )
    assert revoke.status_code == 200
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/accounts/verify_credentials", headers=headers).status_code == 401


def test_status_validation_counts_like_mastodon(
    server: SandboxServer, client: httpx.Client, auth: dict[str, str], http: httpx.Client
) -> None:
    blank = post(client, auth, "   ")
    assert blank.status_code == 422
    assert blank.json() == {"error": "Validation failed: Text can't be blank"}
    link = "https://example.com/" + "a" * 300
    exactly = "x" * 476 + " " + link  # 476 + 1 + 23 = 500
    assert post(client, auth, exactly).status_code == 200
    assert post(client, auth, "x" + exactly).status_code == 422
    assert post(client, auth, "👩‍👩‍👧‍👦" * 500).status_code == 200  # one grapheme each
    http.post(f"{server.url}/_sandbox/mastodon/config", json={"max_characters": 1000})
    assert post(client, auth, "y" * 1000).status_code == 200
    assert (
        client.get("/api/v2/instance").json()["configuration"]["statuses"]["max_characters"] == 1000
    )
    assert count_characters("hi @alice@example.social") == len("hi @alice")
    assert count_characters("e\u0301", spoiler_text="cw") == 3


def test_status_entity_and_account_statuses(
    server: SandboxServer, client: httpx.Client, auth: dict[str, str]
) -> None:
    ids = [post(client, auth, f"post {i}\n\nsecond & para").json()["id"] for i in range(5)]
    assert ids == sorted(ids, key=int)
    status = server.posts("mastodon")[0]
    assert status["text"] == "post 0\n\nsecond & para"
    assert status["content"] == "<p>post 0</p><p>second &amp; para</p>"
    assert status["url"] == f"{server.platform_url('mastodon')}/@demo/{ids[0]}"
    assert status["visibility"] == "public"
    account_id = status["account"]["id"]
    page = client.get(f"/api/v1/accounts/{account_id}/statuses", params={"limit": 2})
    assert [s["id"] for s in page.json()] == [ids[4], ids[3]]
    older = client.get(
        f"/api/v1/accounts/{account_id}/statuses", params={"limit": 40, "max_id": ids[3]}
    )
    assert [s["id"] for s in older.json()] == [ids[2], ids[1], ids[0]]
    reply = client.post(
        "/api/v1/statuses", headers=auth, json={"status": "re", "in_reply_to_id": ids[0]}
    )
    assert reply.json()["in_reply_to_id"] == ids[0]


def test_idempotency_key_replays_then_expires_after_an_hour(
    server: SandboxServer, client: httpx.Client, auth: dict[str, str], http: httpx.Client
) -> None:
    first = post(client, auth, "once", key="key-1")
    replay = post(client, auth, "once, again", key="key-1")
    assert replay.status_code == 200
    assert replay.json()["id"] == first.json()["id"]
    assert replay.json()["text"] == "once"
    other_account = {"Authorization": f"Bearer {server.issue_token('mastodon', 'other')}"}
    assert post(client, other_account, "mine", key="key-1").json()["id"] != first.json()["id"]
    assert len(server.posts("mastodon")) == 2
    clock = http.post(f"{server.url}/_sandbox/clock", json={"offset": 3601})
    assert clock.json()["offset"] == 3601
    after = post(client, auth, "once", key="key-1")
    assert after.json()["id"] != first.json()["id"]
    assert len(server.posts("mastodon")) == 3
    keys = [r.get("idempotency_key") for r in server.requests("mastodon")]
    assert keys == ["key-1", "key-1", "key-1", "key-1"]


def test_media_processing_poll_and_alt_text(
    server: SandboxServer, client: httpx.Client, auth: dict[str, str]
) -> None:
    upload = client.post(
        "/api/v2/media",
        headers=auth,
        files={"file": ("photo.png", PNG, "image/png")},
        data={"description": "A red bicycle", "focus": "0.5,-0.25"},
    )
    assert upload.status_code == 202
    media = upload.json()
    assert media["url"] is None
    early = client.post(
        "/api/v1/statuses", headers=auth, data={"status": "", "media_ids[]": [media["id"]]}
    )
    assert early.status_code == 422
    first = client.get(f"/api/v1/media/{media['id']}", headers=auth)
    assert (first.status_code, first.json()["url"]) == (206, None)
    done = client.get(f"/api/v1/media/{media['id']}", headers=auth)
    assert done.status_code == 200
    assert done.json()["url"].endswith("/photo.png")
    too_long = client.put(
        f"/api/v1/media/{media['id']}", headers=auth, data={"description": "d" * 1501}
    )
    assert too_long.status_code == 422
    status = client.post(
        "/api/v1/statuses", headers=auth, data={"status": "", "media_ids[]": [media["id"]]}
    )
    assert status.status_code == 200
    attachment = status.json()["media_attachments"][0]
    assert attachment["description"] == "A red bicycle"
    uploads = server.uploads("mastodon")
    assert uploads[0]["size"] == len(PNG)
    assert uploads[0]["description"] == "A red bicycle"
    assert uploads[0]["focus"] == [0.5, -0.25]
    stranger = {"Authorization": f"Bearer {server.issue_token('mastodon', 'stranger')}"}
    assert client.get(f"/api/v1/media/{media['id']}", headers=stranger).status_code == 404


def test_media_processed_at_once_when_configured(http: httpx.Client) -> None:
    server_options = {"mastodon": {"processing_polls": 0}}
    with SandboxServer(platforms=["mastodon"], options=server_options) as sandbox:
        token = {"Authorization": f"Bearer {sandbox.issue_token('mastodon')}"}
        reply = http.post(
            f"{sandbox.platform_url('mastodon')}/api/v2/media",
            headers=token,
            files={"file": ("x.bin", PNG, "application/octet-stream")},
        )
        assert reply.status_code == 200
        assert reply.json()["url"]


# --- faults ----------------------------------------------------------------------------------


def test_down_refuses_connections_then_recovers_on_the_same_port(
    server: SandboxServer, client: httpx.Client, auth: dict[str, str], http: httpx.Client
) -> None:
    url = server.platform_url("mastodon")
    assert client.get("/health").status_code == 200  # keeps a pooled connection open
    server.set_fault("mastodon", "down")
    with pytest.raises(httpx.ConnectError):
        client.get("/health")
    with pytest.raises(httpx.RemoteProtocolError):
        http.get(f"{server.url}/mastodon/health")
    assert http.get(f"{server.platform_url('mastodon2')}/health").status_code == 200
    assert http.get(f"{server.url}/_sandbox/platforms").json()["mastodon"]["fault"] == "down"
    server.set_fault("mastodon", "up")
    assert server.platform_url("mastodon") == url
    assert post(client, auth, "after the outage").status_code == 200


def test_commit_drop_stores_the_post_but_drops_the_answer(
    server: SandboxServer, client: httpx.Client, auth: dict[str, str]
) -> None:
    server.set_fault("mastodon", "commit_drop", count=1)
    with pytest.raises(httpx.RemoteProtocolError):
        post(client, auth, "did it go out?", key="k")
    assert [p["text"] for p in server.posts("mastodon")] == ["did it go out?"]
    assert server.requests("mastodon")[-1]["status"] is None
    replay = post(client, auth, "did it go out?", key="k")
    assert replay.json()["id"] == server.posts("mastodon")[0]["id"]


def test_timeout_holds_the_request_and_does_not_block_stop(http: httpx.Client) -> None:
    sandbox = SandboxServer(platforms=["mastodon"]).start()
    try:
        sandbox.set_fault("mastodon", "timeout")
        with pytest.raises(httpx.ReadTimeout):
            http.get(f"{sandbox.platform_url('mastodon')}/health", timeout=0.2)
        # the server stops while a request waits: the client is not left hanging either
        stopper = threading.Timer(0.2, sandbox.stop)
        stopper.start()
        started = time.monotonic()
        with pytest.raises(httpx.TransportError):
            http.get(f"{sandbox.platform_url('mastodon')}/health", timeout=5.0)
        assert time.monotonic() - started < 3.0
        stopper.join()
    finally:
        started = time.monotonic()
        sandbox.stop()
        assert time.monotonic() - started < 1.0


def test_429_503_500_faults_with_count_reverting(
    server: SandboxServer, client: httpx.Client
) -> None:
    server.set_fault("mastodon", "429", retry_after=12, count=2)
    limited = client.get("/health")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "12"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert limited.headers["X-RateLimit-Reset"].endswith("Z")
    assert client.get("/health").status_code == 429
    assert client.get("/health").status_code == 200
    assert server.fault("mastodon")["mode"] == "up"
    server.set_fault("mastodon", "503")
    assert [client.get("/health").status_code for _ in range(3)] == [503, 503, 503]
    server.set_fault("mastodon", "500", count=1)
    assert client.get("/health").status_code == 500
    assert client.get("/health").status_code == 200
    server.set_fault("mastodon", "429")
    assert client.get("/health").headers["Retry-After"] == "30"


def test_writes_only_fault_lets_health_probes_through(
    server: SandboxServer, client: httpx.Client, auth: dict[str, str]
) -> None:
    server.set_fault("mastodon", "503", writes_only=True)
    assert client.get("/health").status_code == 200
    assert post(client, auth, "nope").status_code == 503
    assert server.posts("mastodon") == []


def test_slow_waits_then_answers(server: SandboxServer, client: httpx.Client) -> None:
    server.set_fault("mastodon", "slow", delay=0.15, count=1)
    started = time.monotonic()
    assert client.get("/health").status_code == 200
    assert time.monotonic() - started >= 0.15


def test_fault_arguments_are_checked(server: SandboxServer) -> None:
    assert set(FAULT_MODES) == {
        "up", "down", "503", "500", "429", "timeout", "slow", "commit_drop",
    }  # fmt: skip
    with pytest.raises(ValueError, match="unknown fault mode"):
        server.set_fault("mastodon", "flaky")
    with pytest.raises(ValueError, match="cannot count"):
        server.set_fault("mastodon", "down", count=2)
    with pytest.raises(KeyError):
        server.set_fault("nope", "503")
    with pytest.raises(ValueError, match="unknown sandbox platform"):
        SandboxServer(platforms=["myspace"])


# --- rate limits, records, control API, instances -------------------------------------------


def test_rate_limit_fixed_window() -> None:
    with SandboxServer(platforms=["mastodon"], rate_limits={"mastodon": (3, 60.0)}) as sandbox:
        http = httpx.Client(base_url=sandbox.platform_url("mastodon"), verify=TLS)
        replies = [http.get("/health") for _ in range(4)]
        assert [r.status_code for r in replies] == [200, 200, 200, 429]
        assert [r.headers["X-RateLimit-Remaining"] for r in replies] == ["2", "1", "0", "0"]
        assert replies[0].headers["X-RateLimit-Limit"] == "3"
        assert replies[0].headers["X-RateLimit-Reset"] == replies[3].headers["X-RateLimit-Reset"]
        assert 59 <= int(replies[3].headers["Retry-After"]) <= 60
        sandbox.set_clock_offset(60)
        assert http.get("/health").status_code == 200
        http.close()


def test_requests_are_recorded_without_credentials(
    server: SandboxServer, client: httpx.Client, auth: dict[str, str], http: httpx.Client
) -> None:
    post(client, auth, "hello", key="abc")
    http.get(f"{server.url}/_sandbox/platforms")
    (entry,) = server.requests("mastodon")
    assert entry["method"] == "POST"
    assert entry["path"] == "/api/v1/statuses"
    assert entry["idempotency_key"] == "abc"
    assert entry["status"] == 200
    assert auth["Authorization"].split()[1] not in repr(server.requests("mastodon"))
    over_http = http.get(f"{server.url}/_sandbox/requests").json()
    assert over_http["mastodon"][0]["path"] == "/api/v1/statuses"
    assert over_http["mastodon2"] == []


def test_control_api_over_http(server: SandboxServer, http: httpx.Client) -> None:
    control = f"{server.url}/_sandbox"
    platforms = http.get(f"{control}/platforms").json()
    assert platforms["mastodon2"]["type"] == "mastodon"
    assert platforms["mastodon2"]["url"] == server.platform_url("mastodon2")
    token = http.post(f"{control}/mastodon2/token", json={"username": "ana"}).json()
    base = platforms["mastodon2"]["url"]
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert (
        http.get(f"{base}/api/v1/accounts/verify_credentials", headers=headers).json()["username"]
        == "ana"
    )
    http.post(f"{base}/api/v1/statuses", headers=headers, data={"status": "via control"})
    posts = http.get(f"{control}/posts").json()
    assert posts["mastodon"] == []
    assert posts["mastodon2"][0]["text"] == "via control"
    fault = http.post(
        f"{control}/faults", json={"platform": "mastodon2", "mode": "503", "count": 1}
    )
    assert fault.json()["mastodon2"]["count"] == 1
    assert http.get(f"{base}/health").status_code == 503
    bad = http.post(f"{control}/faults", json={"platform": "mastodon2", "mode": "wobbly"})
    assert bad.status_code == 400
    assert http.post(f"{control}/faults", json={"platform": "x", "mode": "up"}).status_code == 404
    http.post(f"{control}/mastodon2/revoke")
    assert (
        http.get(f"{base}/api/v1/accounts/verify_credentials", headers=headers).status_code == 401
    )
    limit = http.post(f"{control}/mastodon2/rate_limit", json={"limit": 1, "window": 30})
    assert limit.json()["rate_limit"] == [1, 30.0]
    assert http.get(f"{base}/health").status_code == 200
    assert http.get(f"{base}/health").status_code == 429
    assert http.get(f"{control}/unknown").status_code == 404


def test_reset_forgets_everything_but_keeps_ports(
    server: SandboxServer, client: httpx.Client, auth: dict[str, str], http: httpx.Client
) -> None:
    url = server.platform_url("mastodon")
    post(client, auth, "before reset")
    server.configure("mastodon", max_characters=10)
    server.set_clock_offset(100)
    server.set_fault("mastodon", "down")
    assert http.post(f"{server.url}/_sandbox/reset").status_code == 200
    assert server.platform_url("mastodon") == url
    assert server.posts("mastodon") == []
    assert server.requests("mastodon") == []
    assert server.clock_offset == 0
    assert server.fault("mastodon")["mode"] == "up"
    assert client.get("/api/v1/accounts/verify_credentials", headers=auth).status_code == 401
    assert (
        client.get("/api/v2/instance").json()["configuration"]["statuses"]["max_characters"] == 500
    )


def test_four_mastodon_instances_are_independent(http: httpx.Client) -> None:
    names = ["mastodon", "mastodon2", "mastodon3", "mastodon4"]
    with SandboxServer(platforms=names, options={"mastodon3": {"max_characters": 1000}}) as sandbox:
        assert len({sandbox.platform_url(n) for n in names}) == 4
        for name in names:
            token = sandbox.issue_token(name)
            reply = http.post(
                f"{sandbox.platform_url(name)}/api/v1/statuses",
                headers={"Authorization": f"Bearer {token}"},
                data={"status": f"hello {name}"},
            )
            assert reply.status_code == 200
        assert [p["text"] for p in sandbox.posts("mastodon4")] == ["hello mastodon4"]
        limits = {
            n: http.get(f"{sandbox.url}/{n}/api/v2/instance").json()["configuration"]["statuses"][
                "max_characters"
            ]
            for n in names
        }
        assert limits == {"mastodon": 500, "mastodon2": 500, "mastodon3": 1000, "mastodon4": 500}
        sandbox.set_fault("mastodon2", "down")
        with pytest.raises(httpx.ConnectError):
            http.get(f"{sandbox.platform_url('mastodon2')}/health")
        assert http.get(f"{sandbox.platform_url('mastodon3')}/health").status_code == 200


def test_chunked_request_bodies_are_read(client: httpx.Client, auth: dict[str, str]) -> None:
    headers = {**auth, "Content-Type": "application/x-www-form-urlencoded"}
    chunks = iter([b"status=streamed", b"+in+chunks"])
    reply = client.post("/api/v1/statuses", headers=headers, content=chunks)
    assert reply.status_code == 200
    assert reply.json()["text"] == "streamed in chunks"

"""PKCE and the one-shot loopback receiver (RFC 7636, RFC 8252), against real sockets."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from staffetta.core.errors import StaffettaError
from staffetta.core.oauth import (
    LoopbackReceiver,
    OAuthError,
    Pkce,
    new_state,
    run_browser_authorization,
    s256_challenge,
)


def run(coro_fn: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(coro_fn())  # type: ignore[arg-type]


# --- PKCE -----------------------------------------------------------------------------------------


def test_pkce_matches_rfc_7636_appendix_b() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert s256_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert Pkce(verifier).challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_generated_pkce_is_well_formed_and_fresh() -> None:
    a, b = Pkce.generate(), Pkce.generate()
    assert 43 <= len(a.verifier) <= 128
    assert a.verifier != b.verifier
    assert a.method == "S256"
    assert len(a.challenge) == 43
    assert "=" not in a.challenge
    assert a.verifier not in repr(a)


@pytest.mark.parametrize("bad", ["short", "x" * 129, "a" * 42 + "!", "é" * 50])
def test_pkce_refuses_bad_verifiers(bad: str) -> None:
    with pytest.raises(ValueError, match="43-128"):
        Pkce(bad)


def test_state_is_unguessable() -> None:
    states = {new_state() for _ in range(50)}
    assert len(states) == 50
    assert all(len(s) >= 32 for s in states)


# --- loopback receiver ----------------------------------------------------------------------------


def _connect_refused(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        try:
            s.connect(("127.0.0.1", port))
        except ConnectionRefusedError:
            return True
        return False


def test_receiver_accepts_one_valid_callback_then_closes() -> None:
    async def scenario() -> None:
        async with LoopbackReceiver() as receiver:
            uri = receiver.redirect_uri
            assert uri.startswith("http://127.0.0.1:")
            assert uri.endswith("/callback")
            waiting = asyncio.create_task(receiver.wait_for_code("s-123", timeout=5))
            async with httpx.AsyncClient() as client:
                page = await client.get(uri, params={"code": "the-code", "state": "s-123"})
            assert page.status_code == 200
            assert "close this tab and return to Staffetta" in page.text
            assert await waiting == "the-code"
            assert not receiver.listening
            assert _connect_refused(receiver.port)

    run(scenario)


def test_receiver_ignores_other_paths_and_keeps_waiting() -> None:
    async def scenario() -> None:
        async with LoopbackReceiver() as receiver:
            waiting = asyncio.create_task(receiver.wait_for_code("st", timeout=5))
            async with httpx.AsyncClient() as client:
                favicon = await client.get(f"http://127.0.0.1:{receiver.port}/favicon.ico")
                assert favicon.status_code == 404
                ok = await client.get(receiver.redirect_uri, params={"code": "c", "state": "st"})
            assert ok.status_code == 200
            assert await waiting == "c"

    run(scenario)


def test_state_mismatch_is_refused_and_ends_the_flow() -> None:
    async def scenario() -> None:
        async with LoopbackReceiver() as receiver:
            waiting = asyncio.create_task(receiver.wait_for_code("expected", timeout=5))
            async with httpx.AsyncClient() as client:
                page = await client.get(
                    receiver.redirect_uri, params={"code": "stolen", "state": "forged"}
                )
            assert page.status_code == 400
            assert "state mismatch" in page.text
            with pytest.raises(OAuthError, match="state mismatch") as caught:
                await waiting
            assert "stolen" not in str(caught.value)
            # Refused, and nobody gets a second try on this listener.
            assert _connect_refused(receiver.port)

    run(scenario)


def test_callback_without_state_is_refused() -> None:
    async def scenario() -> None:
        async with LoopbackReceiver() as receiver:
            waiting = asyncio.create_task(receiver.wait_for_code("expected", timeout=5))
            async with httpx.AsyncClient() as client:
                await client.get(receiver.redirect_uri, params={"code": "c"})
            with pytest.raises(OAuthError, match="no state"):
                await waiting

    run(scenario)


def test_access_denied_gives_a_clear_message() -> None:
    async def scenario() -> None:
        async with LoopbackReceiver() as receiver:
            waiting = asyncio.create_task(receiver.wait_for_code("st", timeout=5))
            async with httpx.AsyncClient() as client:
                page = await client.get(
                    receiver.redirect_uri,
                    params={"error": "access_denied", "error_description": "nope", "state": "st"},
                )
            assert page.status_code == 400
            with pytest.raises(OAuthError, match="declined"):
                await waiting
            assert isinstance(OAuthError("x"), StaffettaError)

    run(scenario)


def test_wait_times_out_with_advice_and_closes() -> None:
    async def scenario() -> None:
        receiver = await LoopbackReceiver().start()
        with pytest.raises(OAuthError, match="No answer came back"):
            await receiver.wait_for_code("st", timeout=0.05)
        assert _connect_refused(receiver.port)

    run(scenario)


def test_callback_before_wait_is_held_until_state_known() -> None:
    async def scenario() -> None:
        async with LoopbackReceiver() as receiver, httpx.AsyncClient() as client:
            early = asyncio.create_task(
                client.get(receiver.redirect_uri, params={"code": "c1", "state": "late"})
            )
            await asyncio.sleep(0.05)  # the request is in, the state is not known yet
            code = await receiver.wait_for_code("late", timeout=5)
            assert code == "c1"
            assert (await early).status_code == 200

    run(scenario)


def test_run_browser_authorization_with_sync_and_async_browsers() -> None:
    async def scenario() -> None:
        def sync_browser(url: str) -> bool:
            # A real browser runs outside our event loop: this one lives in a worker thread.
            with httpx.Client() as client:
                assert client.get(url, params={"code": "sync", "state": "s1"}).status_code == 200
            return True

        receiver = await LoopbackReceiver().start()
        code = await run_browser_authorization(
            receiver, receiver.redirect_uri, "s1", open_browser=sync_browser, timeout=5
        )
        assert code == "sync"

        async def async_browser(url: str) -> None:
            async with httpx.AsyncClient() as client:
                await client.get(url, params={"code": "async", "state": "s2"})

        receiver = await LoopbackReceiver().start()
        code = await run_browser_authorization(
            receiver, receiver.redirect_uri, "s2", open_browser=async_browser, timeout=5
        )
        assert code == "async"
        assert not receiver.listening

    run(scenario)


def test_browser_that_cannot_open_fails_fast() -> None:
    async def scenario() -> None:
        receiver = await LoopbackReceiver().start()
        with pytest.raises(OAuthError, match="could not open a web browser"):
            await run_browser_authorization(
                receiver, receiver.redirect_uri, "s", open_browser=lambda _url: False, timeout=30
            )
        assert not receiver.listening

    run(scenario)

"""Posts as records in the account's repository: create one under our own key, look one up.

A post is an ``app.bsky.feed.post`` record at ``at://<did>/app.bsky.feed.post/<rkey>``; its
strong ref (``uri`` + ``cid``) is what a reply points at. The channel chooses every record key
itself, so "is it there?" (``getRecord``) is the whole of reconciling.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from staffetta.channels import bluesky_api as api
from staffetta.channels.bluesky_session import Session
from staffetta.core.errors import DeliveryError, TransientError
from staffetta.core.lazy import lazy_module

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")


def sent_parts(checkpoint: dict[str, Any]) -> list[dict[str, str]]:
    """The parts a checkpoint records as posted, in order (an unreadable entry ends the list)."""
    found: list[dict[str, str]] = []
    raw = checkpoint.get("parts")
    for entry in raw if isinstance(raw, list) else []:
        if not isinstance(entry, dict) or not all(entry.get(k) for k in ("uri", "cid", "rkey")):
            break
        found.append(
            {"uri": str(entry["uri"]), "cid": str(entry["cid"]), "rkey": str(entry["rkey"])}
        )
    return found


def _ref(payload: dict[str, Any], rkey: str) -> dict[str, str] | None:
    uri, cid = payload.get("uri"), payload.get("cid")
    if isinstance(uri, str) and isinstance(cid, str) and uri and cid:
        return {"uri": uri, "cid": cid, "rkey": rkey}
    return None


async def get_record(
    http: httpx.AsyncClient, pds: str, did: str, rkey: str, now: float
) -> dict[str, str] | None:
    """The strong ref of the post at ``rkey``, or None when there is none (a public read)."""
    response = await api.xrpc(
        http,
        "GET",
        pds,
        "com.atproto.repo.getRecord",
        now=now,
        ok=(200, 400, 404),
        params={"repo": did, "collection": api.POST_COLLECTION, "rkey": rkey},
    )
    if response.status_code == 200:
        ref = _ref(api.json_object(response, "the post"), rkey)
        if ref is None:
            raise TransientError("Bluesky's answer about the post had no uri or cid.")
        return ref
    name, _ = api.error_of(response)
    if name == "RecordNotFound" or response.status_code == 404:
        return None
    raise api.classify_response(response, now)


async def existing(session: Session, did: str, rkey: str) -> dict[str, str] | None:
    return await get_record(session.http, session.pds_url, did, rkey, session.clock.now())


class BlobsRefused(Exception):
    """The server refused the record for its blobs: gone (``BlobNotFound``), or over the image
    limit of the lexicon it validates against (``max_bytes``)."""

    def __init__(self, error: DeliveryError, max_bytes: int | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.max_bytes = max_bytes


_BLOB_TOO_BIG = re.compile(r"blob too big \(maximum (\d+)")


async def create_record(
    session: Session, did: str, rkey: str, record: dict[str, Any]
) -> dict[str, str]:
    """``createRecord`` under our own record key.

    The reference PDS answers a second create at a taken key with a bare 500, so after any 5xx
    the key is looked up: a record there means this post already went out.
    """
    body = {"repo": did, "collection": api.POST_COLLECTION, "rkey": rkey, "record": record}
    response = await session.call(
        "POST", "com.atproto.repo.createRecord", json=body, raise_errors=False
    )
    if response.status_code == 200:
        ref = _ref(api.json_object(response, "the new post"), rkey)
        if ref is None:
            raise TransientError("Bluesky accepted the post but its reply had no uri or cid.")
        return ref
    error = api.classify_response(response, session.clock.now())
    name, message = api.error_of(response)
    if response.status_code >= 500:
        try:
            ref = await existing(session, did, rkey)
        except DeliveryError:
            raise error from None
        if ref is None:
            raise error
        return ref
    too_big = _BLOB_TOO_BIG.search(message)
    if name == "BlobNotFound" or too_big:
        raise BlobsRefused(error, int(too_big.group(1)) if too_big else None)
    raise error


async def resolve_mentions(session: Session, handles: list[str]) -> dict[str, str]:
    """Handle → DID for the mentions; a handle nobody knows stays plain text."""
    found: dict[str, str] = {}
    for handle in handles:
        response = await session.call(
            "GET",
            "com.atproto.identity.resolveHandle",
            ok=(200, 400, 404),
            params={"handle": handle},
        )
        if response.status_code == 200:
            did = api.json_object(response, "a mention").get("did")
            if isinstance(did, str) and did.startswith("did:"):
                found[handle] = did
    return found


def iso_time(when: float) -> str:
    millis = int(when * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(when)) + f".{millis:03d}Z"

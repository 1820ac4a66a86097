"""Who a Bluesky account is and where its data lives: handle → DID → DID document → PDS.

An account is a DID; its handle is a domain name pointing at the DID, and its DID document names
the Personal Data Server (PDS) that holds its repository and takes its writes. Many accounts are
not on bsky.social, so Staffetta asks the DID document instead of assuming it:

- handle → DID with ``com.atproto.identity.resolveHandle`` on a resolver service (bsky.social by
  default; it answers for DNS ``_atproto`` TXT and well-known handles alike), then, if that
  fails, ``https://<handle>/.well-known/atproto-did`` directly;
- ``did:plc`` documents come from the PLC directory (``https://plc.directory`` by default),
  ``did:web`` ones from ``https://<host>/.well-known/did.json``;
- the PDS is the document's ``#atproto_pds`` service of type ``AtprotoPersonalDataServer``.

The resolver and the PLC directory are account settings, so tests (and private networks) can point
them at local servers. Plain ``http://`` is only followed for this computer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

from staffetta.channels import bluesky_api as api
from staffetta.core.errors import InputError, PermanentError, TransientError
from staffetta.core.lazy import lazy_module

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")

# A handle is a domain name with at least two labels (atproto handle syntax).
_HANDLE = re.compile(
    r"(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?"
)
_DID = re.compile(r"did:[a-z]+:[a-zA-Z0-9._:%-]{1,2048}")
_WELL_KNOWN_LIMIT = 4096
_DOC_LIMIT = 256 * 1024


class IdentityError(InputError):
    """The handle or DID cannot be resolved to an account on a reachable server."""


@dataclass(frozen=True, slots=True)
class Identity:
    did: str
    handle: str  # the handle the DID document claims ("" when it claims none)
    pds_url: str


def normalise_identifier(raw: str) -> str:
    """``@Alice.bsky.social`` -> ``alice.bsky.social``; a DID stays as it is."""
    text = (raw or "").strip().lstrip("@").strip()
    if not text:
        raise IdentityError("Enter your Bluesky handle (like alice.bsky.social) or your DID.")
    if text.startswith("did:"):
        if not _DID.fullmatch(text):
            raise IdentityError(f"“{text}” is not a valid DID.")
        return text
    handle = text.rstrip(".").lower()
    try:
        handle = handle.encode("idna").decode("ascii")
    except UnicodeError:
        raise IdentityError(f"“{text}” is not a valid Bluesky handle.") from None
    if "." not in handle:
        raise IdentityError(
            f"“{text}” is not a complete handle. Enter it with its domain, like "
            f"{handle}.bsky.social."
        )
    if not _HANDLE.fullmatch(handle):
        raise IdentityError(f"“{text}” is not a valid Bluesky handle.")
    return handle


def is_handle(value: str) -> bool:
    return bool(_HANDLE.fullmatch(value))


async def resolve_handle(
    http: httpx.AsyncClient, handle: str, *, service: str, now: float
) -> str | None:
    """The DID ``handle`` points at, or None when no resolver knows it."""
    try:
        response = await api.xrpc(
            http,
            "GET",
            service,
            "com.atproto.identity.resolveHandle",
            now=now,
            ok=(200, 400, 404),
            params={"handle": handle},
        )
    except TransientError:
        response = None
    if response is not None and response.status_code == 200:
        did = response.json().get("did") if _is_json(response) else None
        if isinstance(did, str) and _DID.fullmatch(did):
            return did
    return await _well_known_did(http, handle)


async def _well_known_did(http: httpx.AsyncClient, handle: str) -> str | None:
    scheme = "http" if api.is_loopback_host(handle) else "https"
    try:
        response = await http.get(f"{scheme}://{handle}/.well-known/atproto-did", timeout=10.0)
    except httpx.HTTPError:
        return None
    if response.status_code != 200 or len(response.content) > _WELL_KNOWN_LIMIT:
        return None
    did = response.text.strip()
    return did if _DID.fullmatch(did) else None


async def did_document(
    http: httpx.AsyncClient, did: str, *, plc_url: str, now: float
) -> dict[str, Any]:
    """The DID document of ``did:plc`` or ``did:web`` identities."""
    if did.startswith("did:plc:"):
        url = f"{plc_url}/{quote(did, safe=':')}"
    elif did.startswith("did:web:"):
        host = unquote(did.removeprefix("did:web:"))
        scheme = "http" if api.is_loopback_host(urlsplit(f"//{host}").hostname or "") else "https"
        url = f"{scheme}://{host}/.well-known/did.json"
    else:
        raise IdentityError(f"Staffetta cannot look up {did}: only did:plc and did:web exist.")
    try:
        response = await http.get(url, headers={"Accept": "application/json"})
    except httpx.TransportError as exc:
        raise TransientError(
            f"Could not reach {api.host_of(url)} to look up the account's server: "
            f"{type(exc).__name__}"
        ) from None
    if response.status_code in (404, 410):
        raise IdentityError(f"{did} is not registered (or was deactivated) at {api.host_of(url)}.")
    if response.status_code >= 500 or response.status_code == 429:
        raise TransientError(
            f"{api.host_of(url)} could not look up the account (HTTP {response.status_code})."
        )
    if response.status_code != 200 or len(response.content) > _DOC_LIMIT or not _is_json(response):
        raise PermanentError(
            f"{api.host_of(url)} sent no usable account document for {did} "
            f"(HTTP {response.status_code})."
        )
    document = response.json()
    if not isinstance(document, dict) or document.get("id") != did:
        raise PermanentError(f"{api.host_of(url)} sent a document for another account than {did}.")
    return document


def pds_endpoint(document: dict[str, Any]) -> str:
    """The ``#atproto_pds`` service URL of a DID document."""
    services = document.get("service")
    for service in services if isinstance(services, list) else []:
        if not isinstance(service, dict):
            continue
        ident = str(service.get("id") or "")
        if ident.endswith("#atproto_pds") and service.get("type") == "AtprotoPersonalDataServer":
            endpoint = service.get("serviceEndpoint")
            if isinstance(endpoint, str) and endpoint:
                try:
                    return api.normalise_service_url(endpoint, "account's server")
                except InputError as exc:
                    raise IdentityError(
                        f"The account's server address is unusable: {exc}"
                    ) from None
    raise IdentityError(
        f"The account {document.get('id')} names no Bluesky server (PDS) in its DID document."
    )


def claimed_handle(document: dict[str, Any]) -> str:
    for alias in document.get("alsoKnownAs") or []:
        if isinstance(alias, str) and alias.startswith("at://"):
            return alias.removeprefix("at://").lower()
    return ""


async def resolve_identity(
    http: httpx.AsyncClient,
    identifier: str,
    *,
    service: str = api.DEFAULT_SERVICE,
    plc_url: str = api.DEFAULT_PLC_URL,
    now: float,
) -> Identity:
    """Handle or DID → the account's DID, its handle and its PDS URL.

    Raises IdentityError when the handle or DID does not exist, TransientError when a server on
    the way cannot be reached.
    """
    ident = normalise_identifier(identifier)
    service = api.normalise_service_url(service or api.DEFAULT_SERVICE, "handle resolver")
    plc_url = api.normalise_service_url(plc_url or api.DEFAULT_PLC_URL, "PLC directory")
    if ident.startswith("did:"):
        did = ident
    else:
        found = await resolve_handle(http, ident, service=service, now=now)
        if found is None:
            raise IdentityError(
                f"Bluesky could not find the handle {ident}. Check its spelling (it looks like "
                f"alice.bsky.social, or your own domain)."
            )
        did = found
    document = await did_document(http, did, plc_url=plc_url, now=now)
    handle = claimed_handle(document)
    return Identity(
        did, handle or ("" if ident.startswith("did:") else ident), pds_endpoint(document)
    )


def _is_json(response: httpx.Response) -> bool:
    try:
        response.json()
    except ValueError:
        return False
    return True

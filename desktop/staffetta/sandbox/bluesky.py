"""A Bluesky PDS for the sandbox: the XRPC subset Staffetta uses, as the reference PDS behaves.

Routes: ``GET /xrpc/_health``, ``GET /xrpc/com.atproto.server.describeServer``,
``POST /xrpc/com.atproto.server.createSession|refreshSession``,
``GET /xrpc/com.atproto.server.getSession``, ``GET /xrpc/com.atproto.identity.resolveHandle``,
``POST /xrpc/com.atproto.repo.uploadBlob|createRecord|deleteRecord``,
``GET /xrpc/com.atproto.repo.getRecord|listRecords``, and a PLC directory under ``/plc/<did>``
whose documents name this instance as the account's PDS (so clients resolve the server the way
they would on the network: point the PLC URL at ``<instance>/plc``).

Records of ``app.bsky.feed.post`` are checked the way the lexicon says: text at most 300
graphemes and 3000 UTF-8 bytes, at most 4 images each referring to a blob this account uploaded,
within the image limit (2,000,000 bytes; option ``image_limit``), a card thumbnail within
1,000,000. A second ``createRecord`` at a taken record key is answered with a bare 500, as the
reference PDS does. Status codes, error names and the messages clients read are those of the real
server (``test_bluesky_pds.py`` runs the same calls against both and compares). Stricter than the
real server, to catch client bugs: facet byte ranges must lie inside the text and not overlap,
and reply refs must name existing posts. Accounts are ``<username>.test``;
:meth:`BlueskyPlatform.issue_token` returns a new app password.
"""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import json
import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import regex

from staffetta.sandbox.bluesky_auth import (
    Account,
    BlueskyAuth,
    invalid_request,
    xrpc_error,
)
from staffetta.sandbox.platform import Platform, Request, Response, iso_timestamp

POST = "app.bsky.feed.post"
MAX_GRAPHEMES = 300
MAX_BYTES = 3000
MAX_IMAGES = 4
IMAGE_LIMIT = 2_000_000
THUMB_LIMIT = 1_000_000
BLOB_UPLOAD_LIMIT = 5 * 1024 * 1024
_TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_GRAPHEME = regex.compile(r"\X")
_FEATURES = {
    "app.bsky.richtext.facet#link": "uri",
    "app.bsky.richtext.facet#mention": "did",
    "app.bsky.richtext.facet#tag": "tag",
}
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
)

Handler = Callable[[Request], Response]


def _cid(prefix: str, data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return prefix + base64.b32encode(digest).decode().lower().rstrip("=")


def _sniff(data: bytes, declared: str) -> str:
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return declared or "application/octet-stream"


@dataclass(slots=True)
class Blob:
    cid: str
    mime: str
    size: int
    owner: str
    width: int | None
    height: int | None
    has_exif: bool
    sha256: str

    def ref(self) -> dict[str, Any]:
        return {
            "$type": "blob",
            "ref": {"$link": self.cid},
            "mimeType": self.mime,
            "size": self.size,
        }


def _describe_image(data: bytes) -> tuple[int | None, int | None, bool]:
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as image:
                exif = image.getexif()
                return image.width, image.height, bool(exif) or "exif" in image.info
    except Exception:
        return None, None, False


class BlueskyPlatform(Platform):
    """One Bluesky PDS. Options: ``access_ttl`` (seconds an access JWT lives, 7200),
    ``image_limit`` (bytes of an image blob the lexicon allows, 2000000), ``username``
    (``"demo"``: the account :meth:`issue_token` serves by default)."""

    type_name = "bluesky"

    def __init__(self, name: str, clock: Callable[[], float]) -> None:
        super().__init__(name, clock)
        self.auth = BlueskyAuth(name)
        self.image_limit = IMAGE_LIMIT
        self.default_username = "demo"
        self.records: dict[str, dict[str, dict[str, Any]]] = {}  # did -> rkey -> record entry
        self.blobs: dict[str, Blob] = {}
        self._seq = 0
        self._routes: dict[tuple[str, str], Handler] = {
            ("GET", "_health"): lambda r: Response.json(200, {"version": "0.5.35-sandbox"}),
            ("GET", "com.atproto.server.describeServer"): self._describe,
            ("POST", "com.atproto.server.createSession"): lambda r: self.auth.create_session(
                r, r.params()
            ),
            ("POST", "com.atproto.server.refreshSession"): self.auth.refresh_session,
            ("GET", "com.atproto.server.getSession"): self._get_session,
            ("GET", "com.atproto.identity.resolveHandle"): self._resolve_handle,
            ("POST", "com.atproto.repo.uploadBlob"): self._upload_blob,
            ("POST", "com.atproto.repo.createRecord"): self._create_record,
            ("GET", "com.atproto.repo.getRecord"): self._get_record,
            ("GET", "com.atproto.repo.listRecords"): self._list_records,
            ("POST", "com.atproto.repo.deleteRecord"): self._delete_record,
        }

    # --- Platform interface ---------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        if path.startswith("/plc/"):
            return self._did_document(request, path.removeprefix("/plc/"))
        if path.startswith("/xrpc/"):
            handler = self._routes.get((request.method, path.removeprefix("/xrpc/")))
            if handler is not None:
                return handler(request)
            return xrpc_error(501, "MethodNotImplemented", "Method Not Implemented")
        return Response.json(404, {"error": "NotFound", "message": "Not Found"})

    def reset(self) -> None:
        self.auth.reset()
        self.image_limit = IMAGE_LIMIT
        self.default_username = "demo"
        self.records.clear()
        self.blobs.clear()

    def posts(self) -> list[dict[str, Any]]:
        entries = [e for repo in self.records.values() for e in repo.values()]
        return [
            {"uri": e["uri"], "cid": e["cid"], "value": e["value"]}
            for e in sorted(entries, key=lambda e: e["seq"])
        ]

    def uploads(self) -> list[dict[str, Any]]:
        return [
            {
                "cid": b.cid,
                "mime": b.mime,
                "size": b.size,
                "width": b.width,
                "height": b.height,
                "has_exif": b.has_exif,
                "sha256": b.sha256,
                "did": b.owner,
            }
            for b in self.blobs.values()
        ]

    def issue_token(self, username: str = "") -> str:
        """A new app password for ``username`` (its account is created if needed)."""
        return self.auth.new_app_password(username or self.default_username)

    def revoke_tokens(self) -> None:
        self.auth.revoke_all()

    def configure(self, options: Mapping[str, Any]) -> None:
        unknown = set(options) - {"access_ttl", "image_limit", "username"}
        if unknown:
            raise ValueError(f"bluesky has no options {sorted(unknown)}")
        if "access_ttl" in options:
            value = float(options["access_ttl"])
            if value <= 0:
                raise ValueError("access_ttl must be positive")
            self.auth.access_ttl = value
        if "image_limit" in options:
            limit = int(options["image_limit"])
            if limit < 1:
                raise ValueError("image_limit must be at least 1")
            self.image_limit = limit
        if "username" in options:
            self.default_username = str(options["username"])

    # --- identity -------------------------------------------------------------------------

    def handle_of(self, username: str) -> str:
        return self.auth.account(username).handle

    def _describe(self, request: Request) -> Response:
        return Response.json(
            200,
            {
                "did": "did:web:localhost",
                "availableUserDomains": [".test"],
                "inviteCodeRequired": True,
                "blobUploadLimit": BLOB_UPLOAD_LIMIT,
            },
        )

    def _did_document(self, request: Request, did: str) -> Response:
        account = self.auth.accounts.get(did)
        if account is None:
            return Response.json(404, {"message": f"DID not registered: {did}"})
        return Response.json(
            200,
            {
                "@context": ["https://www.w3.org/ns/did/v1"],
                "id": did,
                "alsoKnownAs": [f"at://{account.handle}"],
                "verificationMethod": [],
                "service": [
                    {
                        "id": "#atproto_pds",
                        "type": "AtprotoPersonalDataServer",
                        "serviceEndpoint": request.base_url,
                    }
                ],
            },
        )

    def _resolve_handle(self, request: Request) -> Response:
        handle = str(request.query.get("handle") or "")
        account = self.auth.by_identifier(handle) if handle else None
        if account is None or account.did == handle:
            return invalid_request("Unable to resolve handle", "HandleNotFound")
        return Response.json(200, {"did": account.did})

    def _get_session(self, request: Request) -> Response:
        account = self.auth.authenticate(request)
        if isinstance(account, Response):
            return account
        return Response.json(200, {"did": account.did, "handle": account.handle, "active": True})

    # --- blobs ----------------------------------------------------------------------------

    def _upload_blob(self, request: Request) -> Response:
        account = self.auth.authenticate(request)
        if isinstance(account, Response):
            return account
        data = request.body
        if len(data) > BLOB_UPLOAD_LIMIT:
            return xrpc_error(413, "PayloadTooLarge", "request entity too large")
        width, height, has_exif = _describe_image(data)
        blob = Blob(
            cid=_cid("bafkrei", data),
            mime=_sniff(data, request.header("content-type").split(";")[0].strip()),
            size=len(data),
            owner=account.did,
            width=width,
            height=height,
            has_exif=has_exif,
            sha256=hashlib.sha256(data).hexdigest(),
        )
        self.blobs[blob.cid] = blob
        return Response.json(200, {"blob": blob.ref()})

    # --- records --------------------------------------------------------------------------

    def _next_tid(self, now: float) -> str:
        self._seq += 1
        value = (int(now * 1_000_000) << 10) | (self._seq % 1024)
        return "".join(_TID_ALPHABET[(value >> (5 * i)) & 31] for i in range(12, -1, -1))

    def _create_record(self, request: Request) -> Response:
        account = self.auth.authenticate(request)
        if isinstance(account, Response):
            return account
        params = request.params()
        if params.get("repo") not in (account.did, account.handle):
            return xrpc_error(403, "InvalidRequest", "Requester does not match repo")
        if params.get("collection") != POST:
            return invalid_request(f"Unsupported collection: {params.get('collection')}")
        rkey = str(params.get("rkey") or self._next_tid(request.now))
        if not _TID.fullmatch(rkey):
            return invalid_request(f"Invalid record key: {rkey}")
        record = params.get("record")
        problem = self._check_post(record, account) if isinstance(record, dict) else "not an object"
        if problem.startswith("BlobNotFound: "):
            return invalid_request(problem.removeprefix("BlobNotFound: "), "BlobNotFound")
        if problem:
            return invalid_request(f"Invalid {POST} record: {problem}")
        assert isinstance(record, dict)
        repo = self.records.setdefault(account.did, {})
        if rkey in repo:
            # What the reference PDS answers (the MST refuses a second value at the key).
            return xrpc_error(500, "InternalServerError", "Internal Server Error")
        encoded = json.dumps(record, sort_keys=True, ensure_ascii=False).encode()
        cid = _cid("bafyrei", encoded)
        self._seq += 1
        entry: dict[str, Any] = {
            "uri": f"at://{account.did}/{POST}/{rkey}",
            "cid": cid,
            "value": record,
            "seq": self._seq,
            "indexedAt": iso_timestamp(request.now),
        }
        repo[rkey] = entry
        commit = {"cid": _cid("bafyrei", cid.encode()), "rev": self._next_tid(request.now)}
        return Response.json(
            200,
            {
                "uri": entry["uri"],
                "cid": entry["cid"],
                "commit": commit,
                "validationStatus": "valid",
            },
        )

    def _get_record(self, request: Request) -> Response:
        repo_id, rkey = str(request.query.get("repo") or ""), str(request.query.get("rkey") or "")
        account = self.auth.by_identifier(repo_id)
        entry = self.records.get(account.did, {}).get(rkey) if account else None
        if entry is None or request.query.get("collection") != POST:
            uri = f"at://{repo_id}/{request.query.get('collection')}/{rkey}"
            return invalid_request(f"Could not locate record: {uri}", "RecordNotFound")
        return Response.json(
            200, {"uri": entry["uri"], "cid": entry["cid"], "value": entry["value"]}
        )

    def _list_records(self, request: Request) -> Response:
        account = self.auth.by_identifier(str(request.query.get("repo") or ""))
        if account is None:
            return invalid_request("Could not find repo", "RepoNotFound")
        entries = sorted(self.records.get(account.did, {}).items(), reverse=True)
        return Response.json(
            200,
            {
                "records": [
                    {"uri": e["uri"], "cid": e["cid"], "value": e["value"]} for _, e in entries
                ]
            },
        )

    def _delete_record(self, request: Request) -> Response:
        account = self.auth.authenticate(request)
        if isinstance(account, Response):
            return account
        self.records.get(account.did, {}).pop(str(request.params().get("rkey") or ""), None)
        return Response.json(200, {})

    # --- validation -----------------------------------------------------------------------

    def _check_post(self, record: dict[str, Any], account: Account) -> str:
        text = record.get("text")
        if record.get("$type") != POST or not isinstance(text, str):
            return "Record/$type and text must be set"
        if not isinstance(record.get("createdAt"), str):
            return 'Record must have the property "createdAt"'
        graphemes = len(_GRAPHEME.findall(text))
        if graphemes > MAX_GRAPHEMES:
            return f"grapheme too big (maximum {MAX_GRAPHEMES}, got {graphemes}) at $.record.text"
        size = len(text.encode("utf-8"))
        if size > MAX_BYTES:
            return f"string too big (maximum {MAX_BYTES}, got {size}) at $.record.text"
        problem = _check_facets(record.get("facets"), size)
        if problem:
            return problem
        langs = record.get("langs")
        if langs is not None and (not isinstance(langs, list) or len(langs) > 3):
            return "langs must be a list of at most 3 languages"
        tags = record.get("tags")
        if tags is not None and (not isinstance(tags, list) or len(tags) > 8):
            return "tags must be a list of at most 8 tags"
        return self._check_embed(record.get("embed"), account) or self._check_reply(
            record.get("reply"), account
        )

    def _check_blob(self, value: Any, account: Account, limit: int, where: str) -> str:
        if not isinstance(value, dict) or value.get("$type") != "blob":
            return f"{where} must be a blob"
        ref = value.get("ref")
        cid = ref.get("$link") if isinstance(ref, dict) else None
        if value.get("size", 0) > limit:
            return f"blob too big (maximum {limit}, got {value.get('size')}) at {where}"
        blob = self.blobs.get(str(cid))
        if blob is None or blob.owner != account.did:
            return f"BlobNotFound: Could not find blob: {cid}"
        if blob.size != value.get("size") or blob.mime != value.get("mimeType"):
            return f"Referenced blob does not match the stored one at {where}"
        if not blob.mime.startswith("image/"):
            return f"Wrong type of file at {where}: {blob.mime}"
        return ""

    def _check_embed(self, embed: Any, account: Account) -> str:
        if embed is None:
            return ""
        kind = embed.get("$type") if isinstance(embed, dict) else None
        if kind == "app.bsky.embed.images":
            images = embed.get("images")
            if not isinstance(images, list) or not 1 <= len(images) <= MAX_IMAGES:
                return f"Array too long (maximum {MAX_IMAGES}) at $.record.embed.images"
            for number, image in enumerate(images):
                where = f"$.record.embed.images[{number}]"
                if not isinstance(image, dict) or not isinstance(image.get("alt"), str):
                    return f'{where} must have the property "alt"'
                ratio = image.get("aspectRatio")
                if ratio is not None and not (
                    isinstance(ratio, dict)
                    and all(
                        isinstance(ratio.get(k), int) and ratio[k] > 0 for k in ("width", "height")
                    )
                ):
                    return f"{where}.aspectRatio must have positive width and height"
                problem = self._check_blob(
                    image.get("image"), account, self.image_limit, f"{where}.image"
                )
                if problem:
                    return problem
            return ""
        if kind == "app.bsky.embed.external":
            external = embed.get("external")
            if not isinstance(external, dict) or not all(
                isinstance(external.get(k), str) for k in ("uri", "title", "description")
            ):
                return "$.record.embed.external must have uri, title and description"
            if "thumb" in external:
                return self._check_blob(
                    external["thumb"], account, THUMB_LIMIT, "$.record.embed.external.thumb"
                )
            return ""
        return f"Unsupported embed type: {kind}"

    def _check_reply(self, reply: Any, account: Account) -> str:
        if reply is None:
            return ""
        if not isinstance(reply, dict):
            return "$.record.reply must be an object"
        for key in ("root", "parent"):
            ref = reply.get(key)
            uri = ref.get("uri") if isinstance(ref, dict) else None
            cid = ref.get("cid") if isinstance(ref, dict) else None
            found = next(
                (e for repo in self.records.values() for e in repo.values() if e["uri"] == uri),
                None,
            )
            if found is None or found["cid"] != cid:
                return f"$.record.reply.{key} does not refer to an existing post"
        return ""


def _check_facets(facets: Any, size: int) -> str:
    if facets is None:
        return ""
    if not isinstance(facets, list):
        return "$.record.facets must be an array"
    ranges: list[tuple[int, int]] = []
    for number, facet in enumerate(facets):
        where = f"$.record.facets[{number}]"
        index = facet.get("index") if isinstance(facet, dict) else None
        start = index.get("byteStart") if isinstance(index, dict) else None
        end = index.get("byteEnd") if isinstance(index, dict) else None
        if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end <= size:
            return f"{where}.index must be a byte range inside the text"
        features = facet.get("features")
        if not isinstance(features, list) or not features:
            return f"{where}.features must not be empty"
        for feature in features:
            kind = feature.get("$type") if isinstance(feature, dict) else None
            field = _FEATURES.get(str(kind))
            if field is None or not isinstance(feature.get(field), str) or not feature[field]:
                return f"{where}: unknown or incomplete feature {kind}"
        ranges.append((start, end))
    ranges.sort()
    for (_, end), (start, _) in itertools.pairwise(ranges):
        if start < end:
            return "facets must not overlap"
    return ""

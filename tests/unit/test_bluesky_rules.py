"""Bluesky's pure rules: counting at the lexicon's limits, facet byte ranges, record keys (TIDs),
JWT expiry, the keyring secret, error classification and link-card metadata."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest
from PIL import Image as PILImage

from staffetta.channels import bluesky_api as api
from staffetta.channels.bluesky import BlueskyChannel
from staffetta.channels.bluesky_identity import IdentityError, normalise_identifier, pds_endpoint
from staffetta.channels.bluesky_richtext import (
    build_facets,
    card_link,
    mention_handles,
    parse_page_meta,
    record_tags,
    short_url,
)
from staffetta.channels.bluesky_session import Credentials
from staffetta.core.channel import Fix
from staffetta.core.errors import (
    AuthError,
    InputError,
    PermanentError,
    RateLimited,
    TransientError,
)
from staffetta.core.model import Account, Image, Post

CHANNEL = BlueskyChannel()
ACCOUNT = Account("bsky-1", "bluesky", "Me", {"handle": "me.bsky.social"})
FAMILY = "👨\u200d👩\u200d👧\u200d👦"  # one grapheme, 25 UTF-8 bytes


def preview(text: str, **post: object) -> tuple[int, list[str]]:
    result = CHANNEL.preview(Post(body=text, **post), ACCOUNT)  # type: ignore[arg-type]
    return result.count, [p.code for p in result.problems]


# --- counting ---------------------------------------------------------------------------------


def test_limits_are_the_lexicons() -> None:
    limits = CHANNEL.limits(ACCOUNT)
    assert (limits.max_chars, limits.max_bytes, limits.max_images) == (300, 3000, 4)
    assert limits.max_image_bytes == 2_000_000
    typed = Account("bsky-2", "bluesky", "Me", {"max_image_bytes": " 1000000"})
    assert CHANNEL.limits(typed).max_image_bytes == 1_000_000  # as given on the command line


@pytest.mark.parametrize(
    ("text", "count", "fits"),
    [
        ("a" * 300, 300, True),
        ("a" * 301, 301, False),
        ("é" * 300, 300, True),  # 600 bytes
        ("e\u0301" * 300, 300, True),  # combining accent: one grapheme each
        ("日本" * 150, 300, True),  # 900 bytes
        ("🇮🇹" * 300, 300, True),  # flags: 8 bytes each, 2400 bytes
        ("🇮🇹" * 301, 301, False),
        (FAMILY * 120, 120, True),  # exactly 3000 bytes
        (FAMILY * 120 + "a", 121, False),  # 3001 bytes: over, though only 121 graphemes
    ],
)
def test_counting_at_both_limits(text: str, count: int, fits: bool) -> None:
    shown, problems = preview(text)
    assert shown == count
    assert CHANNEL.fits(text, ACCOUNT) is fits
    assert ("too_long" in problems) is (not fits)


def test_over_the_byte_limit_says_bytes() -> None:
    result = CHANNEL.preview(Post(body=FAMILY * 121), ACCOUNT)
    problem = next(p for p in result.problems if p.code == "too_long")
    assert "3025 / 3000 bytes" in problem.message
    assert problem.fix is Fix.SPLIT
    assert problem.blocking


def test_a_thread_is_counted_part_by_part() -> None:
    result = CHANNEL.preview(Post(body="a" * 290 + "\n---\n" + "b" * 299), ACCOUNT)
    assert [p.text[-5:] for p in result.parts] == ["a 1/2", "b 2/2"]
    assert [p.count for p in result.parts] == [294, 303]
    assert [p.message for p in result.problems] == ["Part 2 of 2: 303 / 300 characters — 3 over"]


def test_thread_text_splits_so_every_part_fits() -> None:
    text = " ".join(["word"] * 200)  # 999 characters
    post = Post(body=text)
    split = CHANNEL.thread_text(post, ACCOUNT)
    parts = CHANNEL.preview(Post(body=split), ACCOUNT).parts
    assert len(parts) == 4
    assert all(CHANNEL.fits(part.text, ACCOUNT) for part in parts)


def test_preview_problems(tmp_path: Path) -> None:
    picture = tmp_path / "wide.png"
    PILImage.new("RGB", (2500, 100), (1, 2, 3)).save(picture)
    images = tuple(Image(str(picture), alt="" if n == 0 else "x") for n in range(5))
    _, problems = preview("hi", images=images, content_warning="spoilers")
    assert {"too_many_images", "missing_alt", "image_too_large", "no_content_warning"} <= set(
        problems
    )
    assert preview("   ")[1] == ["empty"]


# --- facets -------------------------------------------------------------------------------------


def covered(text: str, facet: dict[str, object]) -> str:
    index = facet["index"]
    assert isinstance(index, dict)
    return text.encode()[index["byteStart"] : index["byteEnd"]].decode()


def test_facets_cover_exactly_their_text_after_emoji_cjk_and_zwj() -> None:
    text = (
        f"{FAMILY} 日本語のテキスト e\u0301 @alice.bsky.social 見て https://例え.jp/パス?q=1 "
        "and example.com/x. #タグ https://example.org/a/very/long/path/indeed#top #Café 🇮🇹 "
        "@bob@mastodon.social @nobody.example"
    )
    dids = {"alice.bsky.social": "did:plc:alice", "nobody.example": ""}
    posted, facets = build_facets(text, dids)
    assert posted == text.replace("https://例え.jp/パス?q=1", "例え.jp/パス?q=1").replace(
        "https://example.org/a/very/long/path/indeed#top", "example.org/a/very/long/..."
    )
    seen = [(covered(posted, f), f["features"][0]) for f in facets]  # type: ignore[index]
    assert seen == [
        (
            "@alice.bsky.social",
            {"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:alice"},
        ),
        (
            "例え.jp/パス?q=1",
            {"$type": "app.bsky.richtext.facet#link", "uri": "https://例え.jp/パス?q=1"},
        ),
        (
            "example.com/x",
            {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/x"},
        ),
        ("#タグ", {"$type": "app.bsky.richtext.facet#tag", "tag": "タグ"}),
        (
            "example.org/a/very/long/...",
            {
                "$type": "app.bsky.richtext.facet#link",
                "uri": "https://example.org/a/very/long/path/indeed#top",
            },
        ),
        ("#Café", {"$type": "app.bsky.richtext.facet#tag", "tag": "Café"}),
    ]
    starts = [f["index"]["byteStart"] for f in facets]  # type: ignore[index]
    assert starts == sorted(starts)


def test_mentions_are_handles_only() -> None:
    assert mention_handles(
        "hi @Alice.bsky.social @bob @carol@mastodon.social @Alice.bsky.social"
    ) == ["alice.bsky.social"]


def test_too_long_hashtag_gets_no_facet() -> None:
    text = "#" + "a" * 65
    assert build_facets(text, {}) == (text, [])
    assert len(build_facets("#" + "a" * 64, {})[1]) == 1


def test_links_count_as_posted_shortened() -> None:
    long_link = "https://example.org/" + "p" * 100
    text = "a" * 270 + " " + long_link
    count, problems = preview(text)
    assert count == 270 + len(" example.org/" + "p" * 12 + "...") == 298
    assert problems == []
    assert CHANNEL.fits(text, ACCOUNT)
    assert CHANNEL.fits("a" * 272 + " " + long_link, ACCOUNT)  # 300
    assert not CHANNEL.fits("a" * 273 + " " + long_link, ACCOUNT)
    assert short_url("https://example.org/") == "example.org"
    assert short_url("http://Example.org/abc?d=1") == "Example.org/abc?d=1"
    assert short_url("example.org/12345678901234") == "example.org/12345678901234"  # 15
    assert short_url("example.org/123456789012345") == "example.org/123456789012..."  # 16


def test_record_tags_skip_inline_and_clip_to_eight() -> None:
    tags = ("#POSSE", "posse", "indieweb", *(f"t{n}" for n in range(10)))
    assert record_tags(tags, "Hello #posse") == ["indieweb", *(f"t{n}" for n in range(7))]


def test_card_link_prefers_the_post_link() -> None:
    assert card_link("see example.org/a and https://b.example/", "") == "https://example.org/a"
    assert (
        card_link("see example.org/a", "https://mine.example/post") == "https://mine.example/post"
    )
    assert card_link("no links", "") == ""


def test_page_metadata_open_graph_first() -> None:
    page = """<html><head><title>Fallback</title>
        <meta name="description" content="plain">
        <meta property="og:title" content="  The   &amp; Title ">
        <meta property="og:description" content="Open Graph words">
        <meta property="og:image" content="/img/card.png">
        </head><body><meta property="og:title" content="ignored"></body></html>"""
    meta = parse_page_meta(page, "https://example.org/posts/1")
    assert meta.title == "The & Title"
    assert meta.description == "Open Graph words"
    assert meta.image == "https://example.org/img/card.png"
    bare = parse_page_meta("<title>Only <b>a</b> title</title>", "https://x.example/")
    assert (bare.title, bare.description, bare.image) == ("Only", "", "")


# --- record keys ----------------------------------------------------------------------------------


def test_tid_format_and_order() -> None:
    assert api.make_tid(0, 0) == "2222222222222"
    assert api.parse_tid("3jzfcijpj2z2a") == api.parse_tid(
        api.make_tid(*api.parse_tid("3jzfcijpj2z2a"))
    )
    assert api.make_tid(*api.parse_tid("3jzfcijpj2z2a")) == "3jzfcijpj2z2a"
    earlier = api.make_tid(1_700_000_000_000_000, 1023)
    later = api.make_tid(1_700_000_000_000_001, 0)
    assert earlier < later
    assert api.TID_PATTERN.fullmatch(earlier)
    assert len(earlier) == 13
    with pytest.raises(ValueError, match="TID"):
        api.make_tid(1 << 53, 0)
    with pytest.raises(ValueError, match="not a TID"):
        api.parse_tid("kzzzzzzzzzzzz")  # top bit set


def test_delivery_rkey_is_fixed_by_the_delivery() -> None:
    first = api.delivery_rkey(1_795_000_000.1234, 7, "key-a")
    assert first == api.delivery_rkey(1_795_000_000.1234, 7, "key-a")
    micros, _clock = api.parse_tid(first)
    assert micros == 1_795_000_000_123_000 + 7
    others = {
        api.delivery_rkey(1_795_000_000.1234, 8, "key-a"),
        api.delivery_rkey(1_795_000_000.1234, 7, "key-b"),
        api.delivery_rkey(1_795_000_000.1234, 1007, "key-c"),  # same microseconds
        api.delivery_rkey(1_795_000_000.1234, 7, "key-a", part=1),
        api.delivery_rkey(1_795_000_000.2234, 7, "key-a"),
    }
    assert first not in others
    assert len(others) == 5
    parts = [api.delivery_rkey(1_795_000_000.0, 3, "k", part=n) for n in range(3)]
    assert len(set(parts)) == 3


# --- sessions and errors --------------------------------------------------------------------------


def jwt(claims: dict[str, object]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJIUzI1NiJ9.{body}.c2ln"


def test_jwt_expiry() -> None:
    assert api.jwt_expiry(jwt({"exp": 1_800_000_000})) == 1_800_000_000.0
    assert api.jwt_expiry(jwt({"sub": "x"})) is None
    assert api.jwt_expiry("not-a-jwt") is None
    assert api.jwt_expiry("a.%%%.c") is None


def test_credentials_round_trip_and_plain_password() -> None:
    plain = Credentials.load("  abcd-efgh-ijkl-mnop \n")
    assert plain.password == "abcd-efgh-ijkl-mnop"
    assert not plain.access_jwt
    full = Credentials("pw", "acc", "ref", "did:plc:x", "https://pds.example")
    assert Credentials.load(full.dump()) == full
    assert "pw" not in repr(full)
    assert "acc" not in repr(full)
    with pytest.raises(AuthError, match="reconnect"):
        Credentials.load("")


def response(status: int, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def test_error_classification() -> None:
    now = 1_800_000_000.0

    def classify(status: int, error: str, message: str = "m", **headers: str) -> Exception:
        body = {"error": error, "message": message}
        return api.classify_response(response(status, body, headers), now)

    invalid = classify(400, "InvalidRequest", "Invalid app.bsky.feed.post record: too long")
    assert isinstance(invalid, PermanentError)
    assert "Invalid app.bsky.feed.post record: too long" in str(invalid)
    assert isinstance(classify(401, "AuthenticationRequired"), AuthError)
    assert isinstance(classify(400, "InvalidToken"), AuthError)
    assert isinstance(classify(400, "AccountTakedown"), AuthError)
    limited = classify(429, "RateLimitExceeded", **{"ratelimit-reset": str(int(now) + 90)})
    assert isinstance(limited, RateLimited)
    assert limited.retry_after == 90
    busy = classify(503, "")
    assert isinstance(busy, TransientError)
    assert not isinstance(busy, RateLimited)
    assert isinstance(classify(501, "MethodNotImplemented"), PermanentError)
    assert api.is_expired_token(response(400, {"error": "ExpiredToken"}))
    assert not api.is_expired_token(response(400, {"error": "InvalidToken"}))


# --- identity ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("@Alice.Bsky.Social", "alice.bsky.social"),
        (" did:plc:abc234 ", "did:plc:abc234"),
        ("bücher.example", "xn--bcher-kva.example"),
    ],
)
def test_identifiers_are_normalised(raw: str, expected: str) -> None:
    assert normalise_identifier(raw) == expected


@pytest.mark.parametrize(
    ("raw", "why"),
    [("", "Enter your Bluesky handle"), ("alice", "alice.bsky.social"), ("a b.c", "not a valid")],
)
def test_bad_identifiers_are_refused_clearly(raw: str, why: str) -> None:
    with pytest.raises(IdentityError, match=why):
        normalise_identifier(raw)


def test_pds_endpoint_from_the_did_document() -> None:
    document = {
        "id": "did:plc:x",
        "service": [
            {"id": "#other", "type": "X", "serviceEndpoint": "https://no.example"},
            {
                "id": "#atproto_pds",
                "type": "AtprotoPersonalDataServer",
                "serviceEndpoint": "https://pds.example/",
            },
        ],
    }
    assert pds_endpoint(document) == "https://pds.example"
    with pytest.raises(IdentityError, match="names no Bluesky server"):
        pds_endpoint({"id": "did:plc:x", "service": []})
    plain = {
        **document,
        "service": [{**document["service"][1], "serviceEndpoint": "http://a.example"}],
    }
    with pytest.raises(IdentityError, match="unencrypted"):
        pds_endpoint(plain)


def test_plain_http_only_for_this_computer() -> None:
    assert api.normalise_service_url("http://localhost:2583") == "http://localhost:2583"
    assert api.normalise_service_url("bsky.social") == "https://bsky.social"
    with pytest.raises(InputError, match="unencrypted"):
        api.normalise_service_url("http://bsky.social")

"""What owned channels (blogs, newsletters) share: the reader's preview, the body as HTML with its
images, a slug fixed at enqueue, and the address of the user's own site.

- :class:`OwnedPreviewer` builds an owned channel's :class:`Preview` — title, the Markdown body
  rendered by :func:`staffetta.core.postfile.render_html` as the reader will see it, the images
  with a warning (and the *add alt* fix) for each one without alt text — and keeps the caches a
  preview needs, since the composer asks for one on every keystroke.
- :func:`body_html` is what such a channel publishes: the rendered body, then every image as a
  ``<figure>`` with its alt text and the URL the platform gave it.
- :func:`delivery_slug` is a slug derived only from the post and the delivery's idempotency key,
  so a retry, a second process or a reconcile all compute the same one.
- :func:`normalise_site_url` accepts ``example.org``, ``https://example.org/blog/`` and plain
  ``http://`` only for this computer, where nothing crosses a network.
"""

from __future__ import annotations

import hashlib
import html
import ipaddress
import os
import re
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from staffetta.core.channel import Fix, Preview, PreviewPart, Problem
from staffetta.core.errors import InputError
from staffetta.core.media import inspect_image
from staffetta.core.model import Account, Post
from staffetta.core.postfile import render_html, slugify
from staffetta.core.text import entities, grapheme_count

__all__ = [
    "OwnedPreviewer",
    "body_html",
    "delivery_slug",
    "figure_html",
    "is_loopback_host",
    "normalise_site_url",
]

_SLUG_WORDS = 8
_NOT_ASCII_SLUG = re.compile(r"[^a-z0-9-]+")
_HYPHENS = re.compile(r"-{2,}")


# --- slugs ----------------------------------------------------------------------------------------


def delivery_slug(
    post: Post, idempotency_key: str, *, max_len: int = 50, suffix_len: int = 8
) -> str:
    """``<words>-<hash>``: ASCII words of the title (else the first words of the body), then a
    suffix from the SHA-256 of the delivery's idempotency key.

    ASCII only, because platforms store other scripts percent-encoded and compare them in ways
    that differ between servers; a title with no Latin letters gives ``post-<hash>``. The same
    delivery always gets the same slug; two deliveries practically never share one.
    """
    words = [word for word in post.body.split() if any(c.isalnum() for c in word)]
    base = ""
    for source in (post.title, " ".join(words[:_SLUG_WORDS])):
        ascii_only = _NOT_ASCII_SLUG.sub("-", slugify(source, max_len=max_len))
        base = _HYPHENS.sub("-", ascii_only).strip("-")
        if base and base != "post":
            break
    base = base or "post"
    suffix = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:suffix_len]
    return f"{base[:max_len].rstrip('-')}-{suffix}"


# --- HTML -----------------------------------------------------------------------------------------


def figure_html(url: str, alt: str) -> str:
    """One image as a reader's page shows it: ``<figure><img src alt></figure>``."""
    return (
        f'<figure><img src="{html.escape(url, quote=True)}" '
        f'alt="{html.escape(" ".join(alt.split()), quote=True)}"></figure>'
    )


def body_html(text: str, images: Sequence[tuple[str, str]] = ()) -> str:
    """The Markdown ``text`` rendered as the reader sees it, then each ``(url, alt)`` image."""
    parts = [render_html(text).strip()] if text.strip() else []
    parts.extend(figure_html(url, alt) for url, alt in images)
    return "\n".join(parts) + ("\n" if parts else "")


# --- site addresses -------------------------------------------------------------------------------

_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalise_site_url(raw: str, what: str = "site") -> str:
    """``example.org/blog/`` → ``https://example.org/blog``, or :class:`InputError` saying why not.

    Lower-cases the host, turns international names into their ASCII form, keeps a path, drops
    the trailing slash, refuses user names, queries and fragments. Plain ``http://`` is accepted
    only for this computer: elsewhere the password or token would cross the network unencrypted.
    """
    text = (raw or "").strip()
    if not text:
        raise InputError(f"Enter your {what}'s address, for example https://example.org.")
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise InputError(f"“{raw.strip()}” is not a valid web address.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise InputError(f"“{raw.strip()}” is not a web address: it should start with https://.")
    if parts.username is not None or parts.password is not None:
        raise InputError(f"Leave the user name out of the {what}'s address (no “user@” part).")
    if parts.query or parts.fragment:
        raise InputError(f"Enter only the {what}'s address, without “?” or “#” parts.")
    host = _host(parts.hostname or "", raw)
    if scheme == "http" and not is_loopback_host(host):
        raise InputError(
            f"{host} must be reached over https://. Plain http:// would send your credentials "
            "unencrypted, so Staffetta only allows it for a site on this computer."
        )
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def _host(host: str, raw: str) -> str:
    if not host:
        raise InputError(f"“{raw.strip()}” has no server name in it.")
    host = host.rstrip(".").lower()
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise InputError(f"“{host}” is not a valid server name.") from None
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise InputError(f"“{host}” is not a valid server name.")
    if len(labels) == 1 and ascii_host != "localhost":
        raise InputError(f"“{host}” is not a complete server name, like example.org.")
    return ascii_host


# --- previews -------------------------------------------------------------------------------------


class OwnedPreviewer:
    """Builds owned channels' previews, remembering the rendered body and image checks.

    One instance per channel object. Every call re-renders only when the body changed, and
    inspects an image file only once per (path, size, mtime).
    """

    def __init__(self) -> None:
        self._html: tuple[str, str] = ("", "")
        self._checks: dict[tuple[str, int, int], str | None] = {}

    def html(self, text: str) -> str:
        if self._html[0] != text or not self._html[1]:
            self._html = (text, render_html(text))
        return self._html[1]

    def image_trouble(self, path: str) -> str | None:
        """Why the image cannot be sent, or None."""
        try:
            stat = os.stat(path)
        except OSError as exc:
            return f"{path} cannot be read ({exc.strerror or exc})."
        key = (path, stat.st_size, stat.st_mtime_ns)
        if key not in self._checks:
            try:
                inspect_image(Path(path))  # too large is fine: publishing scales it down
            except InputError as exc:
                trouble: str | None = str(exc)
            else:
                trouble = None
            if len(self._checks) > 256:
                self._checks.clear()
            self._checks[key] = trouble
        return self._checks[key]

    def preview(
        self,
        channel: str,
        post: Post,
        account: Account,
        handle: str,
        *,
        max_images: int = 0,
        max_alt_chars: int = 0,
        problems: Sequence[Problem] = (),
    ) -> Preview:
        """The reader's view of ``post`` on ``account``; ``problems`` are the channel's own."""
        text = post.text_for(account.id)
        found: list[Problem] = list(problems)
        if not text.strip() and not post.title.strip() and not post.images:
            found.append(
                Problem("empty", "The post is empty: write a title, some text or add an image.")
            )
        if max_images and len(post.images) > max_images:
            found.append(
                Problem(
                    "too_many_images",
                    f"{len(post.images)} images — at most {max_images} can go with one post.",
                    fix=Fix.REMOVE_IMAGES,
                )
            )
        for number, image in enumerate(post.images, start=1):
            trouble = self.image_trouble(image.path)
            if trouble:
                found.append(
                    Problem("image_unusable", f"Image {number}: {trouble}", fix=Fix.REMOVE_IMAGES)
                )
            if not image.alt.strip():
                found.append(
                    Problem(
                        "missing_alt",
                        f"Image {number} has no alt text: readers using a screen reader will "
                        "not know what it shows.",
                        blocking=False,
                        fix=Fix.ADD_ALT,
                    )
                )
            elif max_alt_chars and len(image.alt) > max_alt_chars:
                found.append(
                    Problem(
                        "alt_too_long",
                        f"Image {number}: the alt text has {len(image.alt)} characters; at most "
                        f"{max_alt_chars} are accepted.",
                        fix=Fix.ADD_ALT,
                    )
                )
        return Preview(
            channel=channel,
            account_name=account.name,
            handle=handle,
            parts=(PreviewPart(text=text, count=grapheme_count(text), spans=entities(text)),),
            limit=0,
            unit="characters",
            title=post.title,
            html=self.html(text),
            images=post.images,
            problems=tuple(found),
        )

"""Images for Instagram and Threads: Meta fetches them from a public web address.

Neither API takes image bytes: a container names an ``image_url`` and Meta downloads it. So each
image needs a public address, found in this order (and checkpointed as ``image_urls``):

1. the same image already published by an owned channel of the same post (a WordPress media
   library copy, a Micropub photo): its checkpoint records the address, which is reused when the
   original file is already what the platform accepts (Instagram: a JPEG of a supported shape);
2. the account's *public image folder*: Staffetta writes the prepared picture there
   (``staffetta-<hash>.jpg``) and the platform fetches it from the matching *public image
   address* — a folder the user's website or file host publishes.

Before a container is created the address is fetched once: while it does not answer with an
image (a site still deploying, a sync still running) the post waits instead of failing at Meta.
Without either, the preview blocks the post and says why.

Instagram takes JPEG only, 4:5 to 1.91:1, at most 1440 pixels wide (it rescales others): a
picture outside that shape is padded with white (the default) or cropped around its centre, as
the account's ``image_fit`` says, and the preview tells which before queueing.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import math
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from staffetta.channels import meta_api as api
from staffetta.channels.meta_common import Progress
from staffetta.core.channel import DeliveryContext, Fix, Problem
from staffetta.core.errors import InputError, PermanentError, RateLimited
from staffetta.core.lazy import lazy_module
from staffetta.core.media import ImageInfo, PreparedImage, inspect_image, prepare_image
from staffetta.core.model import Account, Delivery, Post

if TYPE_CHECKING:
    import httpx
    from PIL import Image as PILImage
else:
    httpx = lazy_module("httpx")
    PILImage = lazy_module("PIL.Image")

FITS = ("pad", "crop")
IMAGE_WAIT = 60.0  # seconds between looks at an image that is not online yet
_JPEG_QUALITY = 90


class WaitingForImage(RateLimited):
    """The image is not at its public address yet. Meta is not at fault, so this waits without
    counting towards marking Meta down."""

    def __init__(self, message: str) -> None:
        super().__init__(message, IMAGE_WAIT)


@dataclass(frozen=True, slots=True)
class ImageRules:
    """What one platform accepts at ``image_url``."""

    platform: str
    formats: tuple[str, ...]
    max_bytes: int
    max_images: int
    max_alt: int
    max_side: int | None = None
    min_ratio: float | None = None  # width / height
    max_ratio: float | None = None

    def ratio_ok(self, width: int, height: int) -> bool:
        ratio = width / height
        low = self.min_ratio if self.min_ratio is not None else 0.0
        high = self.max_ratio if self.max_ratio is not None else math.inf
        return low - 1e-9 <= ratio <= high + 1e-9


@dataclass(frozen=True, slots=True)
class ImageHost:
    """The public image folder and the address it is published at."""

    base_url: str
    folder: Path

    def address(self, name: str) -> str:
        return f"{self.base_url}/{name}"


def image_host(account: Account) -> ImageHost | None:
    """The account's public image folder, or None; InputError when half or badly set."""
    base = str(account.settings.get("public_image_base_url") or "").strip().rstrip("/")
    folder = str(account.settings.get("public_image_folder") or "").strip()
    if not base and not folder:
        return None
    if not base or not folder:
        raise InputError(
            "Set both the public image folder and the public image address (the address at "
            "which your website or file host publishes that folder)."
        )
    parts = urlsplit(base)
    sandbox = bool(account.settings.get("api_url"))
    if parts.scheme != "https" and not (
        sandbox and parts.scheme == "http" and api.is_loopback(parts.hostname or "")
    ):
        raise InputError(
            f"The public image address must start with https:// (Meta downloads the images "
            f"from it), not “{base}”."
        )
    return ImageHost(base, Path(folder).expanduser())


def fit_of(account: Account) -> str:
    value = str(account.settings.get("image_fit") or "pad").strip().lower()
    return value if value in FITS else "pad"


# --- what the preview says ----------------------------------------------------------------------


def image_problems(
    post: Post,
    account: Account,
    rules: ImageRules,
    inspect: Callable[[str], ImageInfo | InputError],
) -> list[Problem]:
    """The preview's warnings about the post's images on this platform."""
    if not post.images:
        return []
    problems: list[Problem] = []
    if len(post.images) > rules.max_images:
        problems.append(
            Problem(
                "too_many_images",
                f"{len(post.images)} images — {rules.platform} takes at most "
                f"{rules.max_images} in one post.",
                blocking=True,
                fix=Fix.REMOVE_IMAGES,
            )
        )
    fit = fit_of(account)
    for number, image in enumerate(post.images, start=1):
        label = f"Image {number} ({os.path.basename(image.path)})"
        info = inspect(image.path)
        if isinstance(info, InputError):
            problems.append(
                Problem(
                    "image_unreadable", f"{label}: {info}", blocking=True, fix=Fix.REMOVE_IMAGES
                )
            )
            continue
        if not image.alt.strip():
            problems.append(
                Problem(
                    "missing_alt",
                    f"{label} has no description (alt text) for people who cannot see it.",
                    blocking=False,
                    fix=Fix.ADD_ALT,
                )
            )
        elif len(image.alt) > rules.max_alt:
            problems.append(
                Problem(
                    "alt_too_long",
                    f"{label}: the description is {len(image.alt)} characters; "
                    f"{rules.platform} accepts {rules.max_alt}.",
                    blocking=True,
                    fix=Fix.ADD_ALT,
                )
            )
        if not rules.ratio_ok(info.width, info.height):
            problems.append(_shape_problem(label, info, rules, fit))
    problems.extend(_address_problems(account, rules))
    return problems


def _shape_problem(label: str, info: ImageInfo, rules: ImageRules, fit: str) -> Problem:
    tall = rules.min_ratio is not None and info.width / info.height < rules.min_ratio
    limit = "4:5" if tall else "1.91:1"
    shape = "taller" if tall else "wider"
    if fit == "crop":
        action = f"it will be cropped around its centre to {limit}"
        other = "choose “pad” as the account's image fit to keep all of it, with white bars"
    else:
        action = f"it will be padded with white bars to {limit}"
        other = "choose “crop” as the account's image fit to crop it instead"
    return Problem(
        f"image_{fit}",
        f"{label} is {info.width}×{info.height}, {shape} than {rules.platform} shows "
        f"({limit}): {action}. Or {other}.",
        blocking=False,
    )


def _address_problems(account: Account, rules: ImageRules) -> list[Problem]:
    try:
        host = image_host(account)
    except InputError as exc:
        return [Problem("public_images", str(exc), blocking=True)]
    if host is None:
        return [
            Problem(
                "no_public_address",
                f"{rules.platform} downloads images from a public web address, and this "
                f"account has none: set a public image folder and the address your website "
                f"publishes it at (in the account's settings), or post without images.",
                blocking=True,
                fix=Fix.REMOVE_IMAGES,
            )
        ]
    return [
        Problem(
            "public_images",
            f"{rules.platform} will download the images from {host.base_url}/ (Staffetta puts "
            f"them in {host.folder}); a copy your site already published is used instead when "
            f"there is one.",
            blocking=False,
        )
    ]


# --- preparing ----------------------------------------------------------------------------------


def prepare_for(path: str, rules: ImageRules, fit: str) -> PreparedImage:
    """The picture as the platform takes it: re-encoded without metadata, within its size and
    byte limits, and (Instagram) padded or cropped into its range of shapes."""
    info = inspect_image(Path(path))
    reshape = not rules.ratio_ok(info.width, info.height)
    prepared = prepare_image(
        Path(path),
        max_bytes=rules.max_bytes,
        max_pixels=33_177_600,
        # A picture to crop keeps its pixels until it is cropped, then is scaled.
        max_side=None if reshape else rules.max_side,
        allowed=rules.formats,
    )
    return _reshape(prepared, rules, fit) if reshape else prepared


def _reshape(prepared: PreparedImage, rules: ImageRules, fit: str) -> PreparedImage:
    with PILImage.open(io.BytesIO(prepared.data)) as opened:
        picture = opened.convert("RGB")
    width, height = picture.size
    low = rules.min_ratio or 0.0
    high = rules.max_ratio or math.inf
    if width / height < low:  # too tall
        if fit == "crop":
            new_height = max(1, math.floor(width / low))
            top = (height - new_height) // 2
            picture = picture.crop((0, top, width, top + new_height))
        else:
            new_width = math.ceil(height * low)
            canvas = PILImage.new("RGB", (new_width, height), (255, 255, 255))
            canvas.paste(picture, ((new_width - width) // 2, 0))
            picture = canvas
    else:  # too wide
        if fit == "crop":
            new_width = max(1, math.floor(height * high))
            left = (width - new_width) // 2
            picture = picture.crop((left, 0, left + new_width, height))
        else:
            new_height = math.ceil(width / high)
            canvas = PILImage.new("RGB", (width, new_height), (255, 255, 255))
            canvas.paste(picture, (0, (new_height - height) // 2))
            picture = canvas
    if rules.max_side and max(picture.size) > rules.max_side:
        scale = rules.max_side / max(picture.size)
        size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
        picture = picture.resize(size, PILImage.Resampling.LANCZOS)
    for quality in (_JPEG_QUALITY, 80, 70, 60):
        buffer = io.BytesIO()
        picture.save(buffer, "JPEG", quality=quality, optimize=True)
        if buffer.tell() <= rules.max_bytes:
            return PreparedImage(
                buffer.getvalue(), "image/jpeg", picture.width, picture.height, "JPEG", quality
            )
    raise InputError(f"The picture cannot be made smaller than {rules.max_bytes} bytes.")


# --- public addresses ---------------------------------------------------------------------------


async def public_urls(
    ctx: DeliveryContext,
    progress: Progress,
    rules: ImageRules,
    inspect: Callable[[str], ImageInfo | InputError],
) -> list[str]:
    """A public address for each of the post's images, checkpointed and checked online."""
    images = ctx.post.images
    saved = saved_urls(progress.data)
    if len(saved) == len(images) and images:
        await _check_online(ctx, saved, rules.platform)
        return saved
    sandbox = bool(ctx.account.settings.get("api_url"))
    owned = owned_urls(ctx.other_deliveries(), len(images), sandbox=sandbox)
    try:
        host = image_host(ctx.account)
    except InputError as exc:
        raise PermanentError(str(exc)) from None
    fit = fit_of(ctx.account)
    urls: list[str] = []
    for number, image in enumerate(images, start=1):
        if owned is not None and _usable_as_is(inspect(image.path), rules):
            urls.append(owned[number - 1])
            continue
        if host is None:
            raise PermanentError(
                f"{rules.platform} downloads images from a public web address, and this "
                "account has none: set a public image folder and its address in the account, "
                "then send the post again."
            )
        try:
            prepared = prepare_for(image.path, rules, fit)
        except InputError as exc:
            raise PermanentError(f"Image {number} cannot be sent: {exc}") from None
        urls.append(host.address(_write(host.folder, prepared)))
    await progress.save(image_urls=urls)
    await _check_online(ctx, urls, rules.platform)
    return urls


def saved_urls(checkpoint: dict[str, Any]) -> list[str]:
    raw = checkpoint.get("image_urls")
    return [str(u) for u in raw if isinstance(u, str)] if isinstance(raw, list) else []


def owned_urls(deliveries: Sequence[Delivery], count: int, *, sandbox: bool) -> list[str] | None:
    """Public addresses an owned channel recorded for the same post's images, in order.

    WordPress checkpoints ``media: [{"url": …}]`` and Micropub ``photos: [url]``, one per image.
    """
    for delivery in deliveries:
        checkpoint: dict[str, Any] = delivery.checkpoint or {}
        media = checkpoint.get("media")
        photos = checkpoint.get("photos")
        found: list[Any] = []
        if isinstance(media, list):
            found = [m.get("url") if isinstance(m, dict) else None for m in media]
        elif isinstance(photos, list):
            found = list(photos)
        urls = [u for u in found[:count] if isinstance(u, str) and _public(u, sandbox)]
        if count and len(urls) == count:
            return urls
    return None


def _public(address: str, sandbox: bool) -> bool:
    parts = urlsplit(address)
    if parts.scheme == "https" and parts.hostname:
        return not api.is_loopback(parts.hostname) or sandbox
    return sandbox and parts.scheme == "http" and api.is_loopback(parts.hostname or "")


def _usable_as_is(info: ImageInfo | InputError, rules: ImageRules) -> bool:
    return (
        not isinstance(info, InputError)
        and info.format in rules.formats
        and info.size_bytes <= rules.max_bytes
        and rules.ratio_ok(info.width, info.height)
    )


def _write(folder: Path, prepared: PreparedImage) -> str:
    """Write the picture into the public folder under a name made of its content; atomically."""
    extension = "png" if prepared.format == "PNG" else "jpg"
    name = f"staffetta-{hashlib.sha256(prepared.data).hexdigest()[:32]}.{extension}"
    target = folder / name
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if target.exists() and target.stat().st_size == len(prepared.data):
            return name
        handle, temp = tempfile.mkstemp(dir=folder, prefix=".staffetta-", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(prepared.data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temp, 0o644)  # published by a web server: readable by others
            os.replace(temp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
    except OSError as exc:
        # A folder on an unplugged drive or a full disk: wait rather than fail the post.
        raise WaitingForImage(
            f"Could not write the image into the public image folder {folder} "
            f"({exc.strerror or exc}); the post waits until it can."
        ) from None
    return name


async def _check_online(ctx: DeliveryContext, urls: list[str], platform: str) -> None:
    """Each address answers with an image: otherwise the post waits for it to come online."""
    for number, address in enumerate(urls, start=1):
        why = ""
        try:
            async with ctx.http.stream("GET", address) as response:
                kind = response.headers.get("content-type", "")
                if response.status_code != 200:
                    why = f"HTTP {response.status_code}"
                elif not kind.startswith("image/"):
                    why = f"it is not an image ({kind or 'no type'})"
                # Read it as Meta will (at most a few MB): a web server is not left mid-answer.
                await response.aread()
        except httpx.HTTPError as exc:
            why = type(exc).__name__
        if why:
            raise WaitingForImage(
                f"Image {number} is not online yet at {address} ({why}). {platform} downloads "
                "it from there, so the post waits until your site publishes it."
            )

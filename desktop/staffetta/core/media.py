"""Images: check them when the user attaches them, prepare them for each platform, keep a copy.

- :func:`inspect_image` decodes the file once (cheaply) and turns every way an image can be
  unusable — missing, unreadable, not an image, truncated, too many pixels — into an
  :class:`~staffetta.core.errors.InputError` whose message says what to do. The real type comes
  from the bytes, never from the file name.
- :func:`prepare_image` produces the bytes a channel uploads: EXIF orientation applied, metadata
  (EXIF with GPS, XMP, comments) always dropped by re-encoding, pixels and bytes brought under the
  platform's limits while keeping as much quality as those limits allow.
- :func:`store_media` copies an attachment into the data folder under its SHA-256, atomically,
  so a queued post never depends on the user's original file.

Pillow only opens a short list of web and camera formats (never EPS, which would run
Ghostscript), and no Pillow warning leaves this module.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from staffetta.core.errors import InputError, StoreError
from staffetta.core.lazy import lazy_module
from staffetta.core.model import Image as ImageAttachment

if TYPE_CHECKING:
    import hashlib

    import PIL
    from PIL import Image, ImageSequence
else:
    # Pillow (~30 ms) is loaded when an image is first inspected or prepared
    PIL = lazy_module("PIL")
    Image = lazy_module("PIL.Image")
    ImageSequence = lazy_module("PIL.ImageSequence")
    hashlib = lazy_module("hashlib")

__all__ = [
    "ImageInfo",
    "PreparedImage",
    "inspect_image",
    "prepare_image",
    "store_media",
]

# Formats we let Pillow decode: what cameras, phones, browsers and screenshot tools produce.
_READABLE = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF", "AVIF")
_MIME = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
    "AVIF": "image/avif",
}
_EXTENSION = {
    "JPEG": "jpg",
    "PNG": "png",
    "GIF": "gif",
    "WEBP": "webp",
    "BMP": "bmp",
    "TIFF": "tif",
    "AVIF": "avif",
}
_LOSSY = ("JPEG", "WEBP")
# JPEG/WebP quality range for fitting a byte limit: start at the top, never go below the bottom
# (blocking becomes obvious there); below it we scale the picture down instead.
_MAX_QUALITY = 92
_MIN_QUALITY = 60
_MAX_SHRINK_ROUNDS = 12
# Decoded frames of an animation are held in memory as RGBA: cap their total pixels (~800 MB).
_MAX_ANIMATION_PIXELS = 200_000_000
_ORIENTATION_TAG = 0x0112
# EXIF orientation -> the names of the ``Image.Transpose`` steps that undo it.
_TRANSPOSE_FOR_ORIENTATION: dict[int, tuple[str, ...]] = {
    2: ("FLIP_LEFT_RIGHT",),
    3: ("ROTATE_180",),
    4: ("FLIP_TOP_BOTTOM",),
    5: ("TRANSPOSE",),
    6: ("ROTATE_270",),
    7: ("TRANSVERSE",),
    8: ("ROTATE_90",),
}


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """What an attached image is. ``width``/``height`` are as displayed (EXIF rotation applied);
    ``format`` is Pillow's name for the real type (a camera's MPO is reported as ``JPEG``)."""

    width: int
    height: int
    format: str
    mime: str
    size_bytes: int


@dataclass(frozen=True, slots=True)
class PreparedImage:
    """Bytes ready to upload, without metadata. ``quality`` is the JPEG/WebP quality used, or
    None when the original JPEG quantisation was kept or the format is lossless."""

    data: bytes
    mime: str
    width: int
    height: int
    format: str
    quality: int | None = None


# ---------------------------------------------------------------------------------------------
# Opening


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Pillow warns about odd but readable files (corrupt EXIF, palette transparency); those are
    our problem to handle, not the user's, and must not escape as warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _pixel_limit() -> int:
    limit = Image.MAX_IMAGE_PIXELS
    return int(limit) if limit else 1 << 62


def _too_large(name: str, width: int | None = None, height: int | None = None) -> InputError:
    megapixels = _pixel_limit() // 1_000_000
    side = math.isqrt(_pixel_limit()) // 1000 * 1000
    size = f" ({width}×{height} pixels)" if width and height else ""
    return InputError(
        f"{name}{size} is too large to open safely: images may have at most about "
        f"{megapixels} megapixels. Resize it to at most {side}×{side} pixels in a photo "
        f"editor and attach it again."
    )


def _not_an_image(path: Path) -> InputError:
    name = path.name
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        head = b""
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftyphevc", b"ftypmif1", b"ftypmsf1"):
        return InputError(
            f"{name} is a HEIC photo, which Staffetta cannot read yet. Export it as JPEG "
            f"(on iPhone: Settings › Camera › Formats › Most Compatible) and attach it again."
        )
    if head and b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return InputError(
                f"{name} is a text file, not an image. Attach a JPEG, PNG, GIF or WebP picture."
            )
    return InputError(
        f"{name} is not an image Staffetta can read. Attach a JPEG, PNG, GIF or WebP picture."
    )


def _damaged(name: str) -> InputError:
    return InputError(
        f"{name} is damaged or incomplete (perhaps it was not fully downloaded or copied). "
        f"Open it in a photo viewer to check, or attach another copy."
    )


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[Image.Image]:
    """Open ``path`` as an image, header only, or raise InputError saying what is wrong."""
    name = path.name
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise InputError(
            f"{name} was not found. It may have been moved, renamed or deleted; attach it again."
        ) from None
    except OSError as exc:
        raise InputError(f"{name} cannot be read ({exc.strerror}). Check the file.") from exc
    if path.is_dir():
        raise InputError(f"{name} is a folder, not an image. Attach a picture file.")
    if stat.st_size == 0:
        raise InputError(f"{name} is empty (0 bytes). Attach another copy of the picture.")
    Image.init()
    formats = [fmt for fmt in _READABLE if fmt in Image.OPEN]
    try:
        with _quiet():
            image = Image.open(path, formats=formats)
    except Image.DecompressionBombError:
        raise _too_large(name) from None
    except PIL.UnidentifiedImageError:
        raise _not_an_image(path) from None
    except PermissionError:
        raise InputError(
            f"Staffetta is not allowed to read {name}. Check the file's permissions."
        ) from None
    except OSError as exc:
        raise InputError(f"{name} cannot be read ({exc.strerror or exc}).") from exc
    except Exception as exc:  # a malformed header can make a decoder fail in any way
        raise _damaged(name) from exc
    with image:
        width, height = image.size
        if width <= 0 or height <= 0:
            raise _damaged(name)
        if width * height > _pixel_limit():
            raise _too_large(name, width, height)
        yield image


def _load(image: Image.Image, name: str) -> None:
    """Decode the pixels, turning truncation and corruption into InputError."""
    try:
        with _quiet():
            image.load()
    except Image.DecompressionBombError:
        raise _too_large(name) from None
    except Exception as exc:  # truncated data, broken zlib stream, bad tile...
        raise _damaged(name) from exc


def _format_of(image: Image.Image) -> str:
    fmt = (image.format or "").upper()
    return "JPEG" if fmt == "MPO" else fmt


def _orientation(image: Image.Image) -> int:
    try:
        with _quiet():
            value = image.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:  # corrupt EXIF: show the pixels as stored
        return 1
    return value if isinstance(value, int) and value in _TRANSPOSE_FOR_ORIENTATION else 1


def inspect_image(path: Path) -> ImageInfo:
    """Check that ``path`` is a complete, decodable image of a sensible size and describe it.

    Raises InputError with a message for the user when it is missing, unreadable, not an image,
    truncated or damaged, or has more pixels than can be opened safely. A wrong extension is not
    an error: the real type is reported.
    """
    path = Path(path)
    with _opened(path) as image:
        fmt = _format_of(image)
        width, height = image.size
        orientation = _orientation(image)
        size_bytes = path.stat().st_size
        if fmt == "JPEG":
            # Decode at 1/8 scale: libjpeg still reads every byte, so truncation is found, fast.
            with _quiet(), contextlib.suppress(Exception):
                image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
        _load(image, path.name)
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    return ImageInfo(width, height, fmt, _MIME.get(fmt, "application/octet-stream"), size_bytes)


# ---------------------------------------------------------------------------------------------
# Preparing


def _fit(width: int, height: int, max_pixels: int, max_side: int | None) -> tuple[int, int]:
    """The largest size with the same aspect ratio within ``max_pixels`` and ``max_side``."""
    scale = 1.0
    if width * height > max_pixels:
        scale = math.sqrt(max_pixels / (width * height))
    if max_side is not None and max(width, height) * scale > max_side:
        scale = max_side / max(width, height)
    if scale >= 1.0:
        return width, height
    new_w, new_h = max(1, int(width * scale)), max(1, int(height * scale))
    while new_w * new_h > max_pixels and (new_w > 1 or new_h > 1):
        if new_w >= new_h:
            new_w -= 1
        else:
            new_h -= 1
    return new_w, new_h


def _has_alpha(image: Image.Image) -> bool:
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        return True
    return "transparency" in image.info


def _choose_format(source: str, alpha: bool, allowed: tuple[str, ...]) -> str:
    if source in allowed:
        return source
    if alpha:
        for fmt in ("PNG", "WEBP"):
            if fmt in allowed:
                return fmt
    for fmt in ("JPEG", "WEBP", "PNG"):
        if fmt in allowed:
            return fmt
    return allowed[0]


def _to_8bit(image: Image.Image) -> Image.Image:
    """16/32-bit greyscale to 8-bit L, scaling instead of clipping to white."""
    grey = image.convert("I")
    extrema = grey.getextrema()
    high = extrema[1] if isinstance(extrema[1], int | float) else 255
    if high > 255:
        factor = 255 / float(high)
        grey = grey.point(lambda value: value * factor)
    return grey.convert("L")


def _flatten_on_white(image: Image.Image) -> Image.Image:
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _working_copy(image: Image.Image) -> Image.Image:
    """A mode every writer and LANCZOS resizing understand, transparency kept as alpha."""
    if image.mode in ("RGB", "RGBA", "L", "LA"):
        return image
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        return _to_8bit(image)
    if image.mode == "1":
        return image.convert("L")
    if image.mode in ("P", "PA"):
        return image.convert("RGBA" if _has_alpha(image) else "RGB")
    if image.mode == "CMYK":
        return image.convert("RGB")
    return image.convert("RGBA" if _has_alpha(image) else "RGB")


def _for_format(image: Image.Image, fmt: str) -> Image.Image:
    if fmt == "JPEG":
        if image.mode in ("RGBA", "LA"):
            return _flatten_on_white(image)
        return image if image.mode in ("RGB", "L") else image.convert("RGB")
    if fmt == "WEBP" and image.mode not in ("RGB", "RGBA"):
        return image.convert("RGBA" if image.mode == "LA" else "RGB")
    return image


def _encode(image: Image.Image, fmt: str, quality: int | str | None, icc: bytes | None) -> bytes:
    """Re-encode without any metadata: only the pixels and the colour profile go out."""
    params: dict[str, Any] = {}
    if icc and fmt in ("JPEG", "PNG", "WEBP"):
        params["icc_profile"] = icc
    if fmt == "JPEG":
        params.update(quality=quality if quality is not None else _MAX_QUALITY, optimize=True)
    elif fmt == "WEBP":
        params.update(quality=quality if quality is not None else _MAX_QUALITY, method=4)
    elif fmt == "PNG":
        params["optimize"] = quality == "optimize"
    image.info = {}  # JPEG comments and similar are written from info; it is our own copy
    buffer = io.BytesIO()
    with _quiet():
        image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def _within_bytes(
    image: Image.Image, fmt: str, max_bytes: int, icc: bytes | None, keep_original: bool
) -> tuple[bytes, int | None] | None:
    """Encode ``image`` as ``fmt`` within ``max_bytes`` at the best quality, or None."""
    if fmt not in _LOSSY:
        data = _encode(image, fmt, None, icc)
        if max_bytes < len(data) <= max_bytes * 1.25 and fmt == "PNG":
            # Close to the limit: the slower, thorough zlib pass may be enough.
            data = _encode(image, fmt, "optimize", icc)
        return (data, None) if len(data) <= max_bytes else None
    if keep_original:
        data = _encode(image, fmt, "keep", icc)
        if len(data) <= max_bytes:
            return data, None
    best = _encode(image, fmt, _MAX_QUALITY, icc)
    if len(best) <= max_bytes:
        return best, _MAX_QUALITY
    worst = _encode(image, fmt, _MIN_QUALITY, icc)
    if len(worst) > max_bytes:
        return None
    # Binary search for the highest quality that fits: low always fits, high never does.
    low, high, found = _MIN_QUALITY, _MAX_QUALITY, worst
    while high - low > 1:
        middle = (low + high) // 2
        data = _encode(image, fmt, middle, icc)
        if len(data) <= max_bytes:
            low, found = middle, data
        else:
            high = middle
    return found, low


def _encoded_size_hint(image: Image.Image, fmt: str, icc: bytes | None) -> int:
    quality = _MIN_QUALITY if fmt in _LOSSY else None
    return len(_encode(image, fmt, quality, icc))


def _prepare_animation(
    image: Image.Image, fmt: str, name: str, max_bytes: int, size: tuple[int, int]
) -> PreparedImage:
    count = int(getattr(image, "n_frames", 1) or 1)
    if count * size[0] * size[1] > _MAX_ANIMATION_PIXELS:
        raise InputError(
            f"{name} is an animation of {count} frames, too long to prepare at "
            f"{size[0]}×{size[1]} pixels. Shorten it or convert it to a video."
        )
    frames: list[Image.Image] = []
    durations: list[int] = []
    try:
        with _quiet():
            for frame in ImageSequence.Iterator(image):
                durations.append(int(frame.info.get("duration", 100) or 100))
                rgba = frame.convert("RGBA")
                if rgba.size != size:
                    rgba = rgba.resize(size, Image.Resampling.LANCZOS)
                rgba.info = {}  # the GIF writer copies every frame's info (comments) otherwise
                frames.append(rgba)
    except Exception as exc:
        raise _damaged(name) from exc
    buffer = io.BytesIO()
    params: dict[str, Any] = {"loop": int(image.info.get("loop", 0) or 0)}
    if fmt == "WEBP":
        params["quality"] = _MAX_QUALITY
    with _quiet():
        frames[0].save(
            buffer,
            format=fmt,
            save_all=True,
            append_images=frames[1:],
            duration=durations,
            **params,
        )
    data = buffer.getvalue()
    if len(data) > max_bytes:
        raise InputError(
            f"{name} is an animation of {len(data) / 1_000_000:.1f} MB once prepared, more than "
            f"the {max_bytes / 1_000_000:.1f} MB this channel accepts. Shorten it or make it "
            f"smaller, or convert it to a video."
        )
    return PreparedImage(data, _MIME[fmt], size[0], size[1], fmt)


def prepare_image(
    path: Path,
    *,
    max_bytes: int,
    max_pixels: int,
    max_side: int | None = None,
    allowed: tuple[str, ...] = ("JPEG", "PNG", "GIF", "WEBP"),
) -> PreparedImage:
    """Bytes of ``path`` ready for a platform that accepts ``allowed`` formats within the limits.

    - EXIF orientation is applied to the pixels, then every piece of metadata (EXIF including
      GPS, XMP, comments, text chunks) is dropped by re-encoding; only the colour profile stays.
    - The picture is scaled down (never up) to at most ``max_pixels`` and ``max_side``.
    - It keeps its format when allowed; otherwise it becomes PNG (or WebP) if it has
      transparency, else JPEG, with transparency flattened on white when the target has none.
    - Over ``max_bytes``, JPEG/WebP quality is lowered by binary search to the highest value that
      fits (down to 60); only if that is not enough is the picture scaled down further. A
      lossless image too large for the limit becomes JPEG/WebP when it has no transparency.
    - An untouched JPEG keeps its original quantisation (no generation loss).
    - Animated GIF/WebP stay animated when their format is allowed (first frame otherwise).

    Raises InputError (see :func:`inspect_image`) for unusable files and when the picture cannot
    be brought under ``max_bytes``.
    """
    if max_bytes <= 0 or max_pixels <= 0 or (max_side is not None and max_side <= 0):
        raise ValueError("max_bytes, max_pixels and max_side must be positive")
    allowed = tuple(fmt.upper() for fmt in allowed) or ("JPEG",)
    path = Path(path)
    name = path.name
    with _opened(path) as image:
        source = _format_of(image)
        width, height = image.size
        target_size = _fit(width, height, max_pixels, max_side)
        frames = int(getattr(image, "n_frames", 1) or 1)
        if frames > 1 and source in ("GIF", "WEBP") and source in allowed:
            return _prepare_animation(image, source, name, max_bytes, target_size)
        orientation = _orientation(image)
        if source == "JPEG" and target_size != (width, height):
            # Let libjpeg decode at a reduced scale (>= the target): far less memory and time.
            with _quiet(), contextlib.suppress(Exception):
                image.draft(image.mode, target_size)
        _load(image, name)
        icc = image.info.get("icc_profile")
        icc = icc if isinstance(icc, bytes) else None
        untouched = (
            source == "JPEG"
            and orientation == 1
            and target_size == (width, height)
            and image.size == (width, height)
            and image.mode in ("RGB", "L")
        )
        # An untouched JPEG stays the opened JpegImageFile so it can keep its quantisation.
        try:
            with _quiet():
                work = image if untouched else _working_copy(image)
        except Exception as exc:
            raise _damaged(name) from exc
        return _finish(
            work, source, orientation, target_size, icc, untouched, allowed, name, max_bytes
        )


def _finish(
    work: Image.Image,
    source: str,
    orientation: int,
    target_size: tuple[int, int],
    icc: bytes | None,
    untouched: bool,
    allowed: tuple[str, ...],
    name: str,
    max_bytes: int,
) -> PreparedImage:
    """Orient, scale and convert the decoded picture, then fit it into ``max_bytes``."""
    fmt = _choose_format(source, _has_alpha(work), allowed)
    keep_original = untouched and fmt == "JPEG"
    with _quiet():
        for step in _TRANSPOSE_FOR_ORIENTATION.get(orientation, ()):
            work = work.transpose(Image.Transpose[step])
        if orientation in (5, 6, 7, 8):
            target_size = (target_size[1], target_size[0])
        if work.size != target_size:
            work = work.resize(target_size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        work = _for_format(work, fmt)

    for _round in range(_MAX_SHRINK_ROUNDS):
        result = _within_bytes(work, fmt, max_bytes, icc, keep_original)
        if result is None and fmt not in _LOSSY and not _has_alpha(work):
            lossy = next((f for f in ("JPEG", "WEBP") if f in allowed), None)
            if lossy is not None:
                fmt, work = lossy, _for_format(work, lossy)
                continue
        if result is not None:
            data, quality = result
            return PreparedImage(data, _MIME[fmt], work.width, work.height, fmt, quality)
        keep_original = False
        # Scale by the square root of how far over the limit we still are, with a margin.
        over = _encoded_size_hint(work, fmt, icc) / max_bytes
        factor = min(0.9, 0.95 / math.sqrt(over))
        new_size = (max(1, int(work.width * factor)), max(1, int(work.height * factor)))
        if new_size == work.size or new_size[0] * new_size[1] <= 1:
            break
        with _quiet():
            work = work.resize(new_size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    raise InputError(
        f"{name} cannot be made smaller than {max_bytes / 1_000_000:.1f} MB for this channel. "
        f"Attach a smaller picture."
    )


# ---------------------------------------------------------------------------------------------
# Storing

_CHUNK = 1 << 20


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def store_media(path: Path, media_dir: Path) -> ImageAttachment:
    """Copy the image at ``path`` into ``media_dir`` as ``<sha256>.<ext>`` and describe the copy.

    The image is checked first (:func:`inspect_image`). The copy is written to a temporary file in
    ``media_dir``, fsynced and renamed into place, so a crash never leaves a partial file under a
    final name; identical content is stored once. Raises InputError for an unusable image and
    StoreError when the data folder cannot be written.
    """
    path = Path(path)
    media_dir = Path(media_dir)
    info = inspect_image(path)
    extension = _EXTENSION.get(info.format, info.format.lower() or "bin")
    digest = hashlib.sha256()
    temp_name: str | None = None
    try:
        media_dir.mkdir(parents=True, exist_ok=True)
        with (
            tempfile.NamedTemporaryFile(
                dir=media_dir, prefix=".incoming-", suffix=".part", delete=False
            ) as temp,
            path.open("rb") as source,
        ):
            temp_name = temp.name
            while chunk := source.read(_CHUNK):
                digest.update(chunk)
                temp.write(chunk)
            temp.flush()
            os.fsync(temp.fileno())
        sha256 = digest.hexdigest()
        final = media_dir / f"{sha256}.{extension}"
        if final.exists() and final.stat().st_size == os.stat(temp_name).st_size:
            os.unlink(temp_name)
        else:
            os.replace(temp_name, final)
            _fsync_dir(media_dir)
        temp_name = None
    except OSError as exc:
        raise StoreError(
            f"Could not save a copy of {path.name} in the data folder ({exc.strerror or exc}). "
            f"Check that the disk is not full or read-only, then attach it again."
        ) from exc
    finally:
        if temp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
    return ImageAttachment(path=str(final), sha256=sha256, mime=info.mime)

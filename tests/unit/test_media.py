"""Image checks and preparation, on real files built with Pillow in a temporary folder."""

from __future__ import annotations

import hashlib
import io
import random
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from staffetta.core.errors import InputError
from staffetta.core.media import ImageInfo, inspect_image, prepare_image, store_media

RED = (255, 0, 0)
BLUE = (0, 0, 255)
LIMITS: dict[str, Any] = {"max_bytes": 10_000_000, "max_pixels": 50_000_000}


def _reopen(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _noise(width: int, height: int, seed: int = 7) -> Image.Image:
    return Image.frombytes(
        "RGB", (width, height), random.Random(seed).randbytes(width * height * 3)
    )


def _close(pixel: object, expected: tuple[int, int, int], tolerance: int = 40) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], expected, strict=True))


def _png_with_header_only(path: Path, width: int, height: int) -> None:
    """A tiny, valid-looking PNG whose IHDR claims ``width`` × ``height`` pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    idat = zlib.compress(b"\x00" * 16)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    path.write_bytes(data)


# ---------------------------------------------------------------------------------------------
# inspect_image


def test_inspect_reports_real_type_and_size(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"  # a PNG with the wrong extension
    Image.new("RGB", (30, 20), RED).save(path, format="PNG")
    info = inspect_image(path)
    assert info == ImageInfo(30, 20, "PNG", "image/png", path.stat().st_size)


def test_inspect_reports_displayed_size_for_rotated_photo(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, displayed portrait
    path = tmp_path / "rotated.jpg"
    Image.new("RGB", (40, 20), RED).save(path, exif=exif)
    info = inspect_image(path)
    assert (info.width, info.height, info.format, info.mime) == (20, 40, "JPEG", "image/jpeg")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"gone\.jpg was not found.*attach it again"):
        inspect_image(tmp_path / "gone.jpg")


def test_text_file_named_jpg(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("shopping list: milk, eggs\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"notes\.jpg is a text file, not an image"):
        inspect_image(path)


def test_binary_junk_and_empty_file(tmp_path: Path) -> None:
    junk = tmp_path / "junk.png"
    junk.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(InputError, match="not an image Staffetta can read"):
        inspect_image(junk)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        inspect_image(empty)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_image(tmp_path: Path, fmt: str) -> None:
    whole = tmp_path / "whole"
    _noise(300, 200).save(whole, format=fmt)
    data = whole.read_bytes()
    path = tmp_path / f"cut.{fmt.lower()}"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"damaged or incomplete"):
        inspect_image(path)
    with pytest.raises(InputError, match=r"damaged or incomplete"):
        prepare_image(path, **LIMITS)


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (20000, 20000),  # 400 MP: Pillow itself refuses to open it
        (10000, 10000),  # 100 MP: above the safe limit, where Pillow would only warn
    ],
)
def test_decompression_bomb(tmp_path: Path, width: int, height: int) -> None:
    path = tmp_path / "bomb.png"
    _png_with_header_only(path, width, height)
    with pytest.raises(InputError, match=r"too large to open safely.*Resize it to at most"):
        inspect_image(path)
    with pytest.raises(InputError, match=r"too large"):
        prepare_image(path, **LIMITS)


# ---------------------------------------------------------------------------------------------
# prepare_image


def test_exif_orientation_applied_and_all_metadata_stripped(tmp_path: Path) -> None:
    # Stored 40×20: left half red, right half blue. Orientation 6 = rotate 90° clockwise to
    # display, which puts the stored left edge at the top: displayed 20×40, top red, bottom blue.
    image = Image.new("RGB", (40, 20), RED)
    image.paste(Image.new("RGB", (20, 20), BLUE), (20, 0))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "StaffettaTestCam"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (45.0, 27.0, 36.0)
    gps[3] = "E"
    gps[4] = (9.0, 11.0, 24.0)
    path = tmp_path / "holiday.jpg"
    image.save(path, exif=exif, comment=b"secret-comment", xmp=b"<x:xmpmeta>secret-xmp</x:xmpmeta>")
    with Image.open(path) as original:  # the fixture really carries what we strip
        assert original.getexif().get_ifd(0x8825)[1] == "N"
        assert {"exif", "xmp", "comment"} <= original.info.keys()

    prepared = prepare_image(path, **LIMITS)

    assert (prepared.width, prepared.height, prepared.format) == (20, 40, "JPEG")
    assert prepared.mime == "image/jpeg"
    out = _reopen(prepared.data)
    assert out.size == (20, 40)
    assert not out.getexif()
    assert not {"exif", "xmp", "comment"} & out.info.keys()
    for secret in (b"StaffettaTestCam", b"secret-comment", b"secret-xmp", b"Exif\x00\x00"):
        assert secret not in prepared.data
    rgb = out.convert("RGB")
    assert _close(rgb.getpixel((10, 8)), RED)
    assert _close(rgb.getpixel((10, 32)), BLUE)


def test_untouched_image_keeps_format_and_size(tmp_path: Path) -> None:
    for fmt, ext in (("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp"), ("GIF", "gif")):
        path = tmp_path / f"plain.{ext}"
        Image.new("RGB", (64, 48), BLUE).save(path, format=fmt)
        prepared = prepare_image(path, **LIMITS)
        assert (prepared.format, prepared.width, prepared.height) == (fmt, 64, 48)
        assert _reopen(prepared.data).format == fmt


def test_huge_image_downsized_under_max_pixels(tmp_path: Path) -> None:
    path = tmp_path / "panorama.png"
    Image.new("RGB", (3000, 1000), RED).save(path)
    prepared = prepare_image(path, max_bytes=10_000_000, max_pixels=250_000)
    assert prepared.width * prepared.height <= 250_000
    # 3:1 kept: sqrt(250000 / 3e6) × (3000, 1000) = (866.03, 288.68), rounded down.
    assert (prepared.width, prepared.height) == (866, 288)
    assert _reopen(prepared.data).size == (866, 288)
    by_side = prepare_image(path, max_bytes=10_000_000, max_pixels=50_000_000, max_side=600)
    assert (by_side.width, by_side.height) == (600, 200)


def test_noisy_image_fits_byte_limit_at_highest_quality(tmp_path: Path) -> None:
    # 1600×1200 random RGB is incompressible: about 5.8 MB as PNG.
    noise = _noise(1600, 1200)
    path = tmp_path / "noise.png"
    noise.save(path)
    assert path.stat().st_size > 5_000_000
    limit = 1_000_000

    prepared = prepare_image(path, max_bytes=limit, max_pixels=50_000_000, allowed=("JPEG",))

    assert prepared.format == "JPEG"
    assert (prepared.width, prepared.height) == (1600, 1200)  # quality alone was enough
    assert prepared.quality is not None
    # Within 85–100 % of the limit, and one quality step higher would not have fitted.
    assert 0.85 * limit <= len(prepared.data) <= limit
    buffer = io.BytesIO()
    noise.save(buffer, format="JPEG", quality=prepared.quality + 1, optimize=True)
    assert len(buffer.getvalue()) > limit


def test_scales_down_when_quality_is_not_enough(tmp_path: Path) -> None:
    path = tmp_path / "noise.jpg"
    _noise(1200, 900).save(path, quality=95)
    limit = 150_000  # far below what quality 60 gives at full size
    prepared = prepare_image(path, max_bytes=limit, max_pixels=50_000_000)
    assert len(prepared.data) <= limit
    assert prepared.width < 1200
    assert prepared.width * 900 == pytest.approx(prepared.height * 1200, rel=0.01)
    assert _reopen(prepared.data).size == (prepared.width, prepared.height)


def test_transparency_flattened_on_white_for_jpeg_only_channels(tmp_path: Path) -> None:
    image = Image.new("RGBA", (20, 10), (0, 0, 0, 0))
    image.paste(Image.new("RGBA", (10, 10), (*BLUE, 255)), (10, 0))
    path = tmp_path / "logo.png"
    image.save(path)

    as_jpeg = prepare_image(path, **LIMITS, allowed=("JPEG",))
    assert as_jpeg.format == "JPEG"
    rgb = _reopen(as_jpeg.data).convert("RGB")
    assert _close(rgb.getpixel((3, 5)), (255, 255, 255))
    assert _close(rgb.getpixel((16, 5)), BLUE)

    kept = prepare_image(path, **LIMITS, allowed=("JPEG", "PNG"))
    assert kept.format == "PNG"
    assert _reopen(kept.data).getpixel((3, 5))[3] == 0  # type: ignore[index]


def test_webp_with_alpha_becomes_png_when_webp_not_allowed(tmp_path: Path) -> None:
    path = tmp_path / "sticker.webp"
    Image.new("RGBA", (16, 16), (0, 255, 0, 128)).save(path, lossless=True)
    prepared = prepare_image(path, **LIMITS, allowed=("JPEG", "PNG"))
    assert (prepared.format, prepared.mime) == ("PNG", "image/png")
    assert _reopen(prepared.data).mode == "RGBA"


def test_palette_transparency_converts_without_warnings(tmp_path: Path) -> None:
    # Pillow warns when converting "P" images whose transparency is a bytes table; with
    # filterwarnings=error that warning would fail this test if it escaped.
    image = Image.new("P", (8, 8), 1)
    image.putpalette([255, 255, 255, 255, 0, 0] + [0, 0, 0] * 254)
    path = tmp_path / "palette.png"
    image.save(path, transparency=bytes([255, 0] + [255] * 254))
    prepared = prepare_image(path, **LIMITS, allowed=("JPEG",))
    assert _close(_reopen(prepared.data).convert("RGB").getpixel((4, 4)), (255, 255, 255))


def test_animated_gif_stays_animated(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (20, 20), color) for color in (RED, BLUE, (0, 255, 0))]
    path = tmp_path / "anim.gif"
    frames[0].save(
        path,
        save_all=True,
        append_images=frames[1:],
        duration=100,
        loop=0,
        comment=b"secret-gif-comment",
    )
    assert b"secret-gif-comment" in path.read_bytes()
    prepared = prepare_image(path, **LIMITS)
    assert prepared.format == "GIF"
    assert b"secret-gif-comment" not in prepared.data
    out = Image.open(io.BytesIO(prepared.data))
    assert getattr(out, "n_frames", 1) == 3
    out.close()


def test_bad_limits_are_programming_errors(tmp_path: Path) -> None:
    path = tmp_path / "x.png"
    Image.new("RGB", (4, 4)).save(path)
    with pytest.raises(ValueError, match="positive"):
        prepare_image(path, max_bytes=0, max_pixels=10)


# ---------------------------------------------------------------------------------------------
# store_media


def test_store_media_dedupes_by_content(tmp_path: Path) -> None:
    media = tmp_path / "data" / "media"
    first = tmp_path / "a.jpg"
    _noise(50, 50).save(first, format="PNG")  # mislabelled: stored as .png
    second = tmp_path / "copy of a.png"
    second.write_bytes(first.read_bytes())
    other = tmp_path / "b.png"
    _noise(50, 50, seed=8).save(other)

    stored = store_media(first, media)
    again = store_media(second, media)
    different = store_media(other, media)

    digest = hashlib.sha256(first.read_bytes()).hexdigest()
    assert stored.sha256 == digest
    assert stored.mime == "image/png"
    assert Path(stored.path) == media / f"{digest}.png"
    assert Path(stored.path).read_bytes() == first.read_bytes()
    assert again == stored
    assert different.path != stored.path
    assert sorted(p.name for p in media.iterdir()) == sorted(
        [f"{digest}.png", Path(different.path).name]
    )  # no duplicate, no leftover temporary file


def test_store_media_refuses_non_images(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("not a picture", encoding="utf-8")
    with pytest.raises(InputError):
        store_media(path, tmp_path / "media")
    assert not (tmp_path / "media").exists() or not any((tmp_path / "media").iterdir())

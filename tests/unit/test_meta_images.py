"""Pictures for Instagram and Threads: the shapes Instagram takes (padded or cropped, never
distorted, metadata gone), which owned-channel addresses can be reused, and the public image
folder's settings."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image as PILImage

from staffetta.channels import meta_images as images
from staffetta.channels.instagram import RULES as INSTAGRAM
from staffetta.channels.threads_channel import RULES as THREADS
from staffetta.core.errors import InputError
from staffetta.core.model import Account, Delivery, State


def picture(path: Path, size: tuple[int, int], *, with_gps: bool = False) -> str:
    image = PILImage.new("RGB", size, (200, 30, 30))
    exif = PILImage.Exif()
    if with_gps:
        exif[0x8825] = {2: (45.0, 27.0, 0.0)}  # GPSInfo: latitude
    image.save(path, "JPEG", exif=exif.tobytes())
    return str(path)


def opened(data: bytes) -> PILImage.Image:
    image = PILImage.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize(
    ("size", "fit"),
    [((500, 2000), "pad"), ((500, 2000), "crop"), ((3000, 600), "pad"), ((3000, 600), "crop")],
)
def test_instagram_shapes(tmp_path: Path, size: tuple[int, int], fit: str) -> None:
    prepared = images.prepare_for(picture(tmp_path / "p.jpg", size), INSTAGRAM, fit)
    result = opened(prepared.data)
    assert result.format == "JPEG"
    assert 0.8 <= result.width / result.height <= 1.91
    assert max(result.size) <= 1440
    if fit == "pad":  # nothing cut: the bars are white, the picture is still there
        corner = result.getpixel((0, 0))
        centre = result.getpixel((result.width // 2, result.height // 2))
        assert corner == (255, 255, 255)
        assert isinstance(centre, tuple)
        assert centre[0] > 150
        assert centre[1] < 80


def test_a_shape_instagram_takes_is_left_alone_but_cleaned(tmp_path: Path) -> None:
    path = picture(tmp_path / "p.jpg", (1000, 800), with_gps=True)
    prepared = images.prepare_for(path, INSTAGRAM, "crop")
    result = opened(prepared.data)
    assert result.size == (1000, 800)
    assert 0x8825 not in result.getexif()  # the location is gone


def test_threads_keeps_png(tmp_path: Path) -> None:
    path = tmp_path / "p.png"
    PILImage.new("RGB", (300, 900), (0, 0, 0)).save(path)
    prepared = images.prepare_for(str(path), THREADS, "pad")
    assert prepared.format == "PNG"
    assert (prepared.width, prepared.height) == (300, 900)  # Threads has no shape rule


def _delivery(checkpoint: dict[str, object]) -> Delivery:
    return Delivery(2, 1, "wp", State.SENT, "k", 0.0, 0.0, checkpoint=checkpoint)


def test_owned_addresses() -> None:
    wordpress = _delivery({"media": [{"id": 1, "url": "https://blog.example/a.jpg"}]})
    micropub = _delivery({"photos": ["https://site.example/b.jpg", "https://site.example/c.jpg"]})
    assert images.owned_urls([wordpress], 1, sandbox=False) == ["https://blog.example/a.jpg"]
    assert images.owned_urls([wordpress, micropub], 2, sandbox=False) == [
        "https://site.example/b.jpg",
        "https://site.example/c.jpg",
    ]
    # Not every image published yet, or not public: no reuse.
    assert images.owned_urls([wordpress], 2, sandbox=False) is None
    local = _delivery({"photos": ["http://127.0.0.1:9/a.jpg"]})
    assert images.owned_urls([local], 1, sandbox=False) is None
    assert images.owned_urls([local], 1, sandbox=True) == ["http://127.0.0.1:9/a.jpg"]
    mastodon = _delivery({"media_ids": ["1"]})
    assert images.owned_urls([mastodon], 1, sandbox=False) is None


def _account(**settings: str) -> Account:
    return Account("ig", "instagram", "Demo", settings)


def test_image_host_settings(tmp_path: Path) -> None:
    assert images.image_host(_account()) is None
    host = images.image_host(
        _account(public_image_folder=str(tmp_path), public_image_base_url="https://x.org/img/")
    )
    assert host is not None
    assert host.address("a.jpg") == "https://x.org/img/a.jpg"
    with pytest.raises(InputError, match="Set both"):
        images.image_host(_account(public_image_folder=str(tmp_path)))
    with pytest.raises(InputError, match="https://"):
        images.image_host(
            _account(public_image_folder=str(tmp_path), public_image_base_url="http://x.org/img")
        )


def test_image_fit_defaults_to_pad() -> None:
    assert images.fit_of(_account()) == "pad"
    assert images.fit_of(_account(image_fit="CROP")) == "crop"
    assert images.fit_of(_account(image_fit="stretch")) == "pad"

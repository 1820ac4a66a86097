"""Installer recipes: one app id everywhere, and icons in every size each platform needs.

The .deb itself is built, installed and smoke-tested by ``packaging/linux/ci.sh`` (run by .ci/run);
these checks are the fast part that every test run repeats.
"""

from __future__ import annotations

import configparser
import importlib.util
import plistlib
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from PIL import Image

from staffetta import APP_ID

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"


def _desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(ROOT / "resources" / f"{APP_ID}.desktop", encoding="utf-8")
    return parser["Desktop Entry"]


def test_one_app_id_in_desktop_file_metainfo_installers_and_the_app() -> None:
    assert re.fullmatch(r"io\.github\.[a-z0-9-]+\.Staffetta", APP_ID)
    entry = _desktop_entry()
    assert entry["Icon"] == APP_ID
    assert entry["Exec"].split()[0] == "staffetta"
    metainfo = ET.parse(ROOT / "resources" / f"{APP_ID}.metainfo.xml").getroot()
    assert metainfo.findtext("id") == APP_ID
    assert metainfo.find("launchable").text == f"{APP_ID}.desktop"  # type: ignore[union-attr]
    inno = (PACKAGING / "windows" / "staffetta.iss").read_text(encoding="utf-8")
    assert f'#define AppId "{APP_ID}"' in inno
    assert 'AppUserModelID: "{#AppId}"' in inno
    assert "PrivilegesRequired=lowest" in inno  # per-user install without admin rights
    spec = (PACKAGING / "staffetta.spec").read_text(encoding="utf-8")
    assert "bundle_identifier=APP_ID" in spec
    assert "setDesktopFileName(APP_ID)" in (ROOT / "desktop/staffetta/ui/app.py").read_text(
        encoding="utf-8"
    )


def test_icons_script_renders_every_size_from_the_svg(tmp_path: Path, qapp: object) -> None:
    # ``qapp`` first: the script makes a QGuiApplication only when none exists, and a stray one
    # would break every later widget test.
    spec = importlib.util.spec_from_file_location("staffetta_icons", PACKAGING / "icons.py")
    assert spec is not None
    assert spec.loader is not None
    icons = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(icons)

    icons.build(tmp_path)

    for size in (16, 48, 256, 512):
        png = tmp_path / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        with Image.open(png) as image:
            assert image.size == (size, size)
            assert image.convert("RGBA").getpixel((size // 2, size // 8)) == (30, 60, 140, 255)
    assert (tmp_path / "hicolor/scalable/apps" / f"{APP_ID}.svg").read_bytes().startswith(b"<svg")
    with Image.open(tmp_path / "staffetta.ico") as ico:
        assert {(16, 16), (32, 32), (48, 48), (256, 256)} <= set(ico.info["sizes"])
    with Image.open(tmp_path / "staffetta.icns") as icns:
        assert icns.size == (1024, 1024)  # the 512@2x Retina image


def test_macos_entitlements_are_a_valid_plist() -> None:
    with (PACKAGING / "macos" / "entitlements.plist").open("rb") as handle:
        entitlements = plistlib.load(handle)
    assert entitlements == {"com.apple.security.cs.disable-library-validation": True}


def test_the_bundle_includes_every_module_imported_at_first_use() -> None:
    # lazy_module("x") and lazy_regex (which loads "regex") import by name at run time, where
    # PyInstaller's analysis cannot see them: the spec lists them, or the installed app fails the
    # first time it sends, reads an image or counts a post.
    spec = (ROOT / "packaging" / "staffetta.spec").read_text(encoding="utf-8")
    listed = set(re.findall(r'"([\w.]+)"', spec.split("LAZY_IMPORTS = [", 1)[1].split("]", 1)[0]))
    wanted: set[str] = set()
    for source in (ROOT / "desktop" / "staffetta").rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        wanted.update(re.findall(r'lazy_module\("([\w.]+)"\)', text))
        if "lazy_regex(" in text:
            wanted.add("regex")
    wanted = {name for name in wanted if not name.startswith("staffetta.")}  # collected whole
    assert "httpx" in wanted  # the scan found the stand-ins
    assert sorted(wanted - listed) == []

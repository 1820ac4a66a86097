"""The Qt Linguist workflow for the window's translations.

    python scripts/translations.py update    # extract strings from the code into the .ts files
    python scripts/translations.py compile   # .ts -> .qm (package data the app loads)
    python scripts/translations.py check     # exit 1 if a .ts or .qm is behind, or unfinished

``update`` runs ``pyside6-lupdate`` over every ``desktop/staffetta/ui/**/*.py`` into
``resources/translations/staffetta_<lang>.ts`` (English keeps only plural forms: the source strings
are English). Translate new entries with Qt Linguist (``pyside6-linguist``) or any editor, then
``compile`` runs ``pyside6-lrelease`` into ``desktop/staffetta/ui/i18n/staffetta_<lang>.qm``.
``check`` is what the tests and CI run: the .ts files know every string in the code, Italian has no
unfinished or empty translation, and each committed .qm is exactly what ``compile`` produces.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "desktop" / "staffetta" / "ui"
TS_DIR = ROOT / "resources" / "translations"
QM_DIR = SOURCES / "i18n"
# language -> extra lupdate options; English is the source language and needs only plurals.
LANGUAGES: dict[str, tuple[str, ...]] = {"en": ("-pluralonly",), "it": ()}


@dataclass(frozen=True, order=True)
class Message:
    context: str
    source: str
    numerus: bool


def _tool(name: str) -> str:
    """``pyside6-<name>`` next to this Python, else on PATH."""
    here = Path(sys.executable).parent / f"pyside6-{name}"
    found = str(here) if here.exists() else shutil.which(f"pyside6-{name}")
    if found is None:
        sys.exit(f"pyside6-{name} not found: install the gui extra (pip install 'staffetta[gui]')")
    return found


def source_files() -> list[Path]:
    return sorted(p for p in SOURCES.rglob("*.py") if "__pycache__" not in p.parts)


def ts_path(language: str, folder: Path = TS_DIR) -> Path:
    return folder / f"staffetta_{language}.ts"


def qm_path(language: str, folder: Path = QM_DIR) -> Path:
    return folder / f"staffetta_{language}.qm"


def lupdate(language: str, target: Path) -> None:
    files = [str(p.relative_to(ROOT)) for p in source_files()]
    subprocess.run(  # noqa: S603
        [
            _tool("lupdate"),
            "-silent",
            "-locations",
            "relative",
            "-no-obsolete",
            "-target-language",
            language,
            *LANGUAGES[language],
            *files,
            "-ts",
            str(target),
        ],
        cwd=ROOT,
        check=True,
    )


def lrelease(ts: Path, qm: Path) -> None:
    subprocess.run(  # noqa: S603
        [_tool("lrelease"), "-silent", "-nounfinished", str(ts), "-qm", str(qm)],
        cwd=ROOT,
        check=True,
    )


def messages(ts: Path) -> dict[Message, ET.Element]:
    """Every live message of a .ts file (vanished and obsolete ones are not live)."""
    found: dict[Message, ET.Element] = {}
    root = ET.parse(ts).getroot()  # noqa: S314
    for context in root.iter("context"):
        name = context.findtext("name", "")
        for message in context.iter("message"):
            translation = message.find("translation")
            kind = translation.get("type") if translation is not None else None
            if kind in ("vanished", "obsolete"):
                continue
            key = Message(name, message.findtext("source", ""), message.get("numerus") == "yes")
            found[key] = message
    return found


def untranslated(ts: Path) -> list[Message]:
    """Messages whose translation is unfinished or empty (any plural form empty)."""
    missing = []
    for key, message in messages(ts).items():
        translation = message.find("translation")
        if translation is None or translation.get("type") == "unfinished":
            missing.append(key)
            continue
        forms = translation.findall("numerusform") if key.numerus else [translation]
        if not forms or any(not (form.text or "").strip() for form in forms):
            missing.append(key)
    return sorted(missing)


def problems() -> list[str]:
    """Everything ``check`` complains about, as readable lines."""
    found: list[str] = []
    with tempfile.TemporaryDirectory(prefix="staffetta-i18n-") as scratch:
        for language in LANGUAGES:
            ts = ts_path(language)
            if not ts.exists():
                found.append(f"{ts.relative_to(ROOT)} is missing: run `update`")
                continue
            fresh = ts_path(language, Path(scratch))
            shutil.copy(ts, fresh)
            lupdate(language, fresh)
            new = sorted(set(messages(fresh)) - set(messages(ts)))
            gone = sorted(set(messages(ts)) - set(messages(fresh)))
            for m in new:
                found.append(f"{ts.name}: not yet extracted: [{m.context}] {m.source!r}")
            for m in gone:
                found.append(f"{ts.name}: no longer in the code: [{m.context}] {m.source!r}")
            for m in untranslated(ts):
                found.append(f"{ts.name}: untranslated: [{m.context}] {m.source!r}")
            qm = qm_path(language)
            built = qm_path(language, Path(scratch))
            lrelease(ts, built)
            if not qm.exists() or qm.read_bytes() != built.read_bytes():
                found.append(
                    f"{qm.relative_to(ROOT)} is not compiled from {ts.name}: run `compile`"
                )
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("update", "compile", "check"))
    args = parser.parse_args(argv)
    if args.action == "update":
        TS_DIR.mkdir(parents=True, exist_ok=True)
        for language in LANGUAGES:
            lupdate(language, ts_path(language))
            left = untranslated(ts_path(language))
            print(f"{ts_path(language).relative_to(ROOT)}: {len(left)} to translate")
        return 0
    if args.action == "compile":
        QM_DIR.mkdir(parents=True, exist_ok=True)
        for language in LANGUAGES:
            lrelease(ts_path(language), qm_path(language))
            print(f"{qm_path(language).relative_to(ROOT)}")
        return 0
    found = problems()
    for line in found:
        print(line)
    print("translations: OK" if not found else f"translations: {len(found)} problem(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

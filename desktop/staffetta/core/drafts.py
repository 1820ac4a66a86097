"""Drafts: what the user is writing, kept on disk so a crash or a power cut loses nothing.

Qt-free. One draft is one JSON file ``<id>.json`` in ``Paths.drafts``, replaced atomically on
every save (temporary file in the same folder, flush, fsync, rename, fsync of the folder), so a
reader — or the next start after a power cut — sees either the previous save or the new one, never
a torn file. Images attached to a draft are copied into ``<drafts>/media`` under their SHA-256
(:func:`staffetta.core.media.store_media`), so deleting, moving or editing the original file never
breaks a draft.

A file that cannot be read (damaged, or written by a newer Staffetta) is reported by
:meth:`DraftStore.list_drafts` with a message and skipped; it is never deleted or overwritten.

Writes (``save``, ``delete``, ``duplicate``, the ``import_*`` methods) may block on the disk: the
window runs them on a background thread. Every method is safe to call from any one thread at a time
per draft; two threads never write the same file concurrently in the app (one writer thread).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from staffetta.core.clock import Clock, SystemClock
from staffetta.core.errors import StaffettaError
from staffetta.core.lazy import lazy_module
from staffetta.core.model import Image, Post

if TYPE_CHECKING:
    from staffetta.core import media as stored_media
else:  # Pillow and image handling: with the first image
    stored_media = lazy_module("staffetta.core.media")

__all__ = [
    "FORMAT_VERSION",
    "BrokenDraft",
    "Draft",
    "DraftError",
    "DraftListing",
    "DraftStore",
    "parse_tags",
]

FORMAT_VERSION = 1
_SUFFIX = ".json"
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SNIPPET_CHARS = 80


class DraftError(StaffettaError):
    """A draft cannot be read or written; the message says which file and what to do."""


def parse_tags(text: str) -> tuple[str, ...]:
    """Tags typed as ``"travel, #Alps  photo"``: split at commas (or spaces when there is no
    comma), ``#`` dropped, duplicates (case-insensitive) removed, order kept."""
    pieces = text.split(",") if "," in text else text.split()
    seen: set[str] = set()
    tags: list[str] = []
    for piece in pieces:
        tag = piece.strip().lstrip("#").strip()
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            tags.append(tag)
    return tuple(tags)


@dataclass(frozen=True, slots=True)
class Draft:
    """A post being written, with everything the composer shows.

    ``accounts`` are the selected account ids; ``overrides`` may hold texts for accounts that are
    not selected right now (deselecting an account does not throw its custom text away), but
    :meth:`to_post` only carries those of selected accounts. ``publishing`` is set while the post
    is being handed to the outbox: a draft still marked so after a crash may already be queued.
    """

    id: str
    title: str = ""
    body: str = ""
    link: str = ""
    tags: tuple[str, ...] = ()
    images: tuple[Image, ...] = ()
    overrides: dict[str, str] = field(default_factory=dict)
    accounts: tuple[str, ...] = ()
    content_warning: str = ""
    thread_numbering: bool = True
    scheduled_at: float | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    publishing: bool = False

    @classmethod
    def new(cls, now: float, accounts: Iterable[str] = ()) -> Draft:
        return cls(id=_new_id(), accounts=tuple(accounts), created_at=now, updated_at=now)

    @property
    def is_empty(self) -> bool:
        """Nothing the user would miss: no text, title, image, link, tag or warning."""
        return not (
            self.title.strip()
            or self.body.strip()
            or self.images
            or self.link.strip()
            or self.tags
            or self.content_warning.strip()
            or any(text.strip() for text in self.overrides.values())
        )

    def snippet(self, max_chars: int = _SNIPPET_CHARS) -> str:
        """A one-line reminder of the draft: its title, else the start of its text ("" if none)."""
        source = self.title.strip() or self.body.strip()
        if not source:
            source = next((t.strip() for t in self.overrides.values() if t.strip()), "")
        line = " ".join(source.split())
        if len(line) > max_chars:
            line = line[: max_chars - 1].rstrip() + "…"
        return line

    def to_post(self) -> Post:
        """The post this draft publishes (custom texts of selected accounts only)."""
        selected = set(self.accounts)
        return Post(
            body=self.body,
            title=self.title,
            images=self.images,
            link=self.link.strip(),
            tags=self.tags,
            overrides={k: v for k, v in self.overrides.items() if k in selected},
            content_warning=self.content_warning.strip(),
            scheduled_at=self.scheduled_at,
            thread_numbering=self.thread_numbering,
        )

    # --- JSON -----------------------------------------------------------------------------------
    def to_json(self, relative_to: Path | None = None) -> dict[str, Any]:
        """A JSON-ready dict. Image paths under ``relative_to`` are stored relative to it, so a
        portable data folder can move."""
        return {
            "format": FORMAT_VERSION,
            "id": self.id,
            "title": self.title,
            "body": self.body,
            "link": self.link,
            "tags": list(self.tags),
            "images": [_image_json(image, relative_to) for image in self.images],
            "overrides": dict(self.overrides),
            "accounts": list(self.accounts),
            "content_warning": self.content_warning,
            "thread_numbering": self.thread_numbering,
            "scheduled_at": self.scheduled_at,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "publishing": self.publishing,
        }

    @classmethod
    def from_json(cls, data: Any, relative_to: Path | None = None) -> Draft:
        """The draft in ``data``; raises ValueError (with what is wrong) for anything else."""
        if not isinstance(data, dict):
            raise ValueError("it does not hold a draft")
        version = data.get("format")
        if not isinstance(version, int) or version < 1:
            raise ValueError("it does not hold a draft")
        if version > FORMAT_VERSION:
            raise ValueError("it was written by a newer version of Staffetta; update Staffetta")
        draft_id = _typed(data, "id", str, "")
        if not _ID.fullmatch(draft_id):
            raise ValueError("its id is missing or invalid")
        scheduled = data.get("scheduled_at")
        if scheduled is not None and not isinstance(scheduled, int | float):
            raise ValueError("scheduled_at is not a time")
        images = _typed(data, "images", list, [])
        overrides = _typed(data, "overrides", dict, {})
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in overrides.items()):
            raise ValueError("overrides must map account ids to texts")
        return cls(
            id=draft_id,
            title=_typed(data, "title", str, ""),
            body=_typed(data, "body", str, ""),
            link=_typed(data, "link", str, ""),
            tags=_strings(data, "tags"),
            images=tuple(_image_from(item, relative_to) for item in images),
            overrides=dict(overrides),
            accounts=_strings(data, "accounts"),
            content_warning=_typed(data, "content_warning", str, ""),
            thread_numbering=_typed(data, "thread_numbering", bool, True),
            scheduled_at=float(scheduled) if scheduled is not None else None,
            created_at=float(_typed(data, "created_at", (int, float), 0.0)),
            updated_at=float(_typed(data, "updated_at", (int, float), 0.0)),
            publishing=_typed(data, "publishing", bool, False),
        )


def _typed(data: Mapping[str, Any], key: str, kind: Any, default: Any) -> Any:
    value = data.get(key, default)
    if kind is not bool and isinstance(value, bool):  # True is an int in Python
        raise ValueError(f"{key} has the wrong type")
    if not isinstance(value, kind):
        raise ValueError(f"{key} has the wrong type")
    return value


def _strings(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    values = _typed(data, key, list, [])
    if not all(isinstance(v, str) for v in values):
        raise ValueError(f"{key} must be a list of texts")
    return tuple(values)


def _image_json(image: Image, relative_to: Path | None) -> dict[str, str]:
    path = Path(image.path)
    if relative_to is not None and path.is_absolute() and path.is_relative_to(relative_to):
        stored = path.relative_to(relative_to).as_posix()
    else:
        stored = str(path)
    return {"path": stored, "alt": image.alt, "sha256": image.sha256, "mime": image.mime}


def _image_from(item: Any, relative_to: Path | None) -> Image:
    if not isinstance(item, dict) or not isinstance(item.get("path"), str) or not item["path"]:
        raise ValueError("an image has no path")
    path = Path(item["path"])
    if not path.is_absolute() and relative_to is not None:
        path = relative_to / path
    fields = {k: item.get(k, "") for k in ("alt", "sha256", "mime")}
    if not all(isinstance(v, str) for v in fields.values()):
        raise ValueError("an image has a field of the wrong type")
    return Image(path=str(path), **fields)


class BrokenDraft(NamedTuple):
    """A file in the drafts folder that could not be read; it is left where it is."""

    path: Path
    message: str


class DraftListing(NamedTuple):
    drafts: tuple[Draft, ...]  # newest first
    broken: tuple[BrokenDraft, ...] = ()


class DraftStore:
    """Drafts as files in ``folder`` (normally ``Paths.drafts``), images in ``folder/media``."""

    def __init__(self, folder: Path, clock: Clock | None = None) -> None:
        self.folder = Path(folder)
        self.media = self.folder / "media"
        self._clock = clock or SystemClock()

    def path_of(self, draft_id: str) -> Path:
        if not _ID.fullmatch(draft_id):
            raise DraftError(f"'{draft_id}' is not a draft id.")
        return self.folder / f"{draft_id}{_SUFFIX}"

    # --- reading --------------------------------------------------------------------------------
    def load(self, draft_id: str) -> Draft:
        """The draft with this id; DraftError if it is missing or unreadable."""
        return self._read(self.path_of(draft_id))

    def _read(self, path: Path) -> Draft:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise DraftError(f"The draft {path.stem} no longer exists.") from None
        except OSError as exc:
            raise DraftError(
                f"The draft file {path} cannot be read ({exc.strerror or exc})."
            ) from None
        try:
            draft = Draft.from_json(json.loads(raw.decode("utf-8")), self.folder)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise DraftError(
                f"The draft file {path} is damaged and was left untouched; open it in a text "
                f"editor to recover its text."
            ) from None
        except ValueError as exc:
            raise DraftError(
                f"The draft file {path} cannot be used: {exc}. It was left untouched."
            ) from None
        if draft.id != path.stem:
            raise DraftError(
                f"The draft file {path} holds another draft ({draft.id}); it was left untouched."
            )
        return draft

    def list_drafts(self) -> DraftListing:
        """Every draft, newest change first; unreadable files are reported, not raised."""
        drafts: list[Draft] = []
        broken: list[BrokenDraft] = []
        try:
            paths = sorted(self.folder.glob(f"*{_SUFFIX}"))
        except OSError as exc:
            return DraftListing((), (BrokenDraft(self.folder, str(exc)),))
        for path in paths:
            if path.name.startswith(".") or not _ID.fullmatch(path.stem):
                continue
            try:
                drafts.append(self._read(path))
            except DraftError as exc:
                broken.append(BrokenDraft(path, str(exc)))
        drafts.sort(key=lambda d: (d.updated_at, d.created_at, d.id), reverse=True)
        return DraftListing(tuple(drafts), tuple(broken))

    def latest_open(self) -> Draft | None:
        """The draft to reopen at start: the newest one not being handed to the outbox."""
        return next((d for d in self.list_drafts().drafts if not d.publishing), None)

    # --- writing --------------------------------------------------------------------------------
    def save(self, draft: Draft) -> Draft:
        """Write ``draft`` durably and atomically; returns it. DraftError if the disk refuses."""
        path = self.path_of(draft.id)
        data = json.dumps(draft.to_json(self.folder), ensure_ascii=True, indent=1).encode("ascii")
        temp_name: str | None = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                dir=self.folder, prefix=f".{draft.id}-", suffix=".tmp", delete=False
            ) as temp:
                temp_name = temp.name
                temp.write(data)
                temp.flush()
                os.fsync(temp.fileno())
            os.replace(temp_name, path)
            temp_name = None
            _fsync_dir(self.folder)
        except OSError as exc:
            raise DraftError(
                f"Could not save the draft in {self.folder} ({exc.strerror or exc}). Check that "
                f"the disk is not full or read-only; the text is still in the window."
            ) from None
        finally:
            if temp_name is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temp_name)
        return draft

    def delete(self, draft_id: str) -> None:
        """Remove a draft (a missing one is not an error). Its images stay until pruned."""
        path = self.path_of(draft_id)
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise DraftError(f"Could not delete {path} ({exc.strerror or exc}).") from None
        _fsync_dir(self.folder)

    def duplicate(self, draft_id: str) -> Draft:
        """A copy of a draft under a new id, saved, dated now (so it lists first)."""
        original = self.load(draft_id)
        now = self._clock.now()
        copy = dataclasses.replace(
            original, id=_new_id(), created_at=now, updated_at=now, publishing=False
        )
        return self.save(copy)

    # --- images ---------------------------------------------------------------------------------
    def import_image(self, path: Path, alt: str = "") -> Image:
        """Check the image and keep a copy in the drafts' media folder; InputError if unusable."""
        return dataclasses.replace(stored_media.store_media(Path(path), self.media), alt=alt)

    def import_bytes(self, data: bytes, filename: str, alt: str = "") -> Image:
        """Keep image bytes (a pasted picture, a resized copy) like :meth:`import_image`.
        ``filename`` names the picture in error messages."""
        name = Path(filename).name or "image"
        try:
            self.media.mkdir(parents=True, exist_ok=True)
            scratch = Path(tempfile.mkdtemp(prefix=".incoming-", dir=self.media))
        except OSError as exc:
            raise DraftError(
                f"Could not save the picture in {self.media} ({exc.strerror or exc})."
            ) from None
        try:
            source = scratch / name
            source.write_bytes(data)
            return self.import_image(source, alt)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def prune_media(self, older_than: float = 86_400.0) -> int:
        """Delete media no draft refers to and not touched for ``older_than`` seconds.

        Does nothing while any draft file is unreadable (its images cannot be known). Returns how
        many files were removed.
        """
        listing = self.list_drafts()
        if listing.broken or not self.media.is_dir():
            return 0
        used = {Path(image.path).name for d in listing.drafts for image in d.images}
        cutoff = self._clock.now() - older_than
        removed = 0
        for entry in self.media.iterdir():
            try:
                if entry.is_file() and entry.name not in used and entry.stat().st_mtime < cutoff:
                    entry.unlink()
                    removed += 1
            except OSError:
                continue
        return removed


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _new_id() -> str:
    """A random draft id: 32 hex digits, as ``uuid4().hex`` gives, without loading ``uuid`` (and the
    ``platform`` module it loads) at the window's start."""
    return os.urandom(16).hex()

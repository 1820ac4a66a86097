"""Drafts on disk: atomic saves, newest-first listing, damaged files reported and left alone, image
copies that outlive the originals."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest
from PIL import Image as PILImage

from staffetta.core.clock import FakeClock
from staffetta.core.drafts import Draft, DraftError, DraftStore, parse_tags
from staffetta.core.errors import InputError
from staffetta.core.model import Image, Post
from staffetta.core.paths import Paths


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(home: Path, clock: FakeClock) -> DraftStore:
    return DraftStore(Paths.under(home).drafts, clock)


def png(path: Path, colour: tuple[int, int, int] = (10, 120, 200)) -> Path:
    PILImage.new("RGB", (32, 24), colour).save(path, "PNG")
    return path


def full_draft(store: DraftStore, clock: FakeClock, tmp_path: Path) -> Draft:
    image = store.import_image(png(tmp_path / "photo.png"), alt="A blue square")
    return dataclasses.replace(
        Draft.new(clock.now(), ["static_site-1", "mastodon-1"]),
        title="Alps",
        body="Climbed 🏔️ today with @anna@example.social #alps https://example.com/trip\n\n"
        "Second paragraph \u05e9\u05dc\u05d5\u05dd \ud800 lone surrogate",
        link="https://example.com",
        tags=("alps", "travel"),
        images=(image,),
        overrides={"mastodon-1": "Short version"},
        content_warning="heights",
        thread_numbering=False,
        scheduled_at=clock.now() + 3600,
    )


def test_save_and_load_round_trip_every_field(
    store: DraftStore, clock: FakeClock, tmp_path: Path
) -> None:
    draft = full_draft(store, clock, tmp_path)
    store.save(draft)
    assert store.load(draft.id) == draft
    # no temporary file is left behind
    assert [p.name for p in store.folder.iterdir() if p.is_file()] == [f"{draft.id}.json"]


def test_images_are_copied_so_deleting_the_original_keeps_the_draft(
    store: DraftStore, clock: FakeClock, tmp_path: Path
) -> None:
    original = png(tmp_path / "holiday.png")
    image = store.import_image(original, alt="Beach")
    original.unlink()
    assert Path(image.path).is_file()
    assert Path(image.path).parent == store.media
    assert Path(image.path).stem == image.sha256
    assert image.alt == "Beach"
    assert image.mime == "image/png"


def test_image_paths_are_stored_relative_so_a_portable_folder_can_move(
    store: DraftStore, clock: FakeClock, tmp_path: Path
) -> None:
    draft = full_draft(store, clock, tmp_path)
    store.save(draft)
    raw = json.loads(store.path_of(draft.id).read_text())
    assert raw["images"][0]["path"].startswith("media/")
    moved = tmp_path / "moved-drafts"
    store.folder.rename(moved)
    again = DraftStore(moved).load(draft.id)
    assert Path(again.images[0].path).parent == moved / "media"
    assert Path(again.images[0].path).is_file()


def test_list_is_newest_first(store: DraftStore, clock: FakeClock) -> None:
    first = store.save(dataclasses.replace(Draft.new(clock.now()), body="first"))
    clock.advance(10)
    second = store.save(dataclasses.replace(Draft.new(clock.now()), body="second"))
    clock.advance(10)
    store.save(dataclasses.replace(first, body="first, edited", updated_at=clock.now()))
    listing = store.list_drafts()
    assert [d.body for d in listing.drafts] == ["first, edited", "second"]
    assert listing.broken == ()
    assert second.id in {d.id for d in listing.drafts}


def test_damaged_files_are_reported_and_never_deleted(store: DraftStore, clock: FakeClock) -> None:
    good = store.save(dataclasses.replace(Draft.new(clock.now()), body="fine"))
    torn = store.folder / "0123abcd.json"
    torn.write_bytes(b'{"format": 1, "id": "0123abcd", "body": "half a')
    newer = store.folder / "feedbeef.json"
    newer.write_text(json.dumps({"format": 99, "id": "feedbeef"}))
    listing = store.list_drafts()
    assert [d.id for d in listing.drafts] == [good.id]
    messages = {b.path.name: b.message for b in listing.broken}
    assert "damaged" in messages["0123abcd.json"]
    assert "newer version" in messages["feedbeef.json"]
    assert torn.exists()
    assert newer.exists()
    with pytest.raises(DraftError, match="damaged"):
        store.load("0123abcd")
    # pruning media is refused while a draft's images are unknown
    assert store.prune_media(older_than=0) == 0


def test_latest_open_skips_drafts_being_published(store: DraftStore, clock: FakeClock) -> None:
    older = store.save(dataclasses.replace(Draft.new(clock.now()), body="keep writing"))
    clock.advance(5)
    store.save(dataclasses.replace(Draft.new(clock.now()), body="sent", publishing=True))
    latest = store.latest_open()
    assert latest is not None
    assert latest.id == older.id


def test_duplicate_and_delete(store: DraftStore, clock: FakeClock, tmp_path: Path) -> None:
    draft = store.save(full_draft(store, clock, tmp_path))
    clock.advance(60)
    copy = store.duplicate(draft.id)
    assert copy.id != draft.id
    assert (copy.body, copy.images, copy.overrides) == (draft.body, draft.images, draft.overrides)
    assert store.list_drafts().drafts[0].id == copy.id
    store.delete(draft.id)
    store.delete(draft.id)  # already gone: not an error
    assert [d.id for d in store.list_drafts().drafts] == [copy.id]
    # the copy's images did not go with the original
    assert Path(store.load(copy.id).images[0].path).is_file()


def test_bad_ids_never_reach_the_file_system(store: DraftStore) -> None:
    for bad in ("../outbox", "a/b", "", "x" * 65):
        with pytest.raises(DraftError):
            store.load(bad)
        with pytest.raises(DraftError):
            store.delete(bad)


def test_save_failure_is_a_clear_message(
    store: DraftStore, clock: FakeClock, tmp_path: Path
) -> None:
    store.folder.parent.mkdir(parents=True, exist_ok=True)
    store.folder.write_text("a file where the folder should be")
    with pytest.raises(DraftError, match="Could not save the draft"):
        store.save(Draft.new(clock.now()))


def test_a_bad_image_is_refused_with_its_reason(store: DraftStore, tmp_path: Path) -> None:
    notes = tmp_path / "notes.png"
    notes.write_text("shopping list")
    with pytest.raises(InputError, match="text file, not an image"):
        store.import_image(notes)
    with pytest.raises(InputError, match=r"Pasted image\.png is damaged"):
        store.import_bytes(png(tmp_path / "x.png").read_bytes()[:60], "Pasted image.png")
    # nothing half-imported is left in the media folder
    assert [p for p in store.media.iterdir() if not p.name.endswith(".png")] == []


def test_pasted_bytes_are_stored_by_content(store: DraftStore, tmp_path: Path) -> None:
    data = png(tmp_path / "clip.png").read_bytes()
    one = store.import_bytes(data, "Pasted image.png")
    two = store.import_bytes(data, "Pasted image.png")
    assert one.path == two.path
    assert Path(one.path).read_bytes() == data
    assert [p.name for p in store.media.iterdir()] == [Path(one.path).name]


def test_prune_media_keeps_what_drafts_use(
    store: DraftStore, clock: FakeClock, tmp_path: Path
) -> None:
    used = store.import_image(png(tmp_path / "a.png", (1, 2, 3)))
    unused = store.import_image(png(tmp_path / "b.png", (4, 5, 6)))
    store.save(dataclasses.replace(Draft.new(clock.now()), images=(used,)))
    old = clock.now() - 2 * 86_400
    for image in (used, unused):
        os.utime(image.path, (old, old))
    assert store.prune_media() == 1
    assert Path(used.path).exists()
    assert not Path(unused.path).exists()


def test_to_post_carries_custom_texts_of_selected_accounts_only(clock: FakeClock) -> None:
    draft = dataclasses.replace(
        Draft.new(clock.now(), ["a"]),
        body="common",
        link=" https://example.com ",
        images=(Image("/x.png", "alt"),),
        overrides={"a": "for a", "b": "for b, deselected"},
    )
    post = draft.to_post()
    assert post == Post(
        body="common",
        images=(Image("/x.png", "alt"),),
        link="https://example.com",
        overrides={"a": "for a"},
    )
    # deselecting does not throw the text away
    assert draft.overrides["b"] == "for b, deselected"


def test_empty_and_snippet(clock: FakeClock) -> None:
    draft = Draft.new(clock.now())
    assert draft.is_empty
    assert draft.snippet() == ""
    assert not dataclasses.replace(draft, tags=("x",)).is_empty
    long = dataclasses.replace(draft, body="  word " * 40)
    assert long.snippet(20) == "word word word word…"
    assert dataclasses.replace(draft, title="Title", body="body").snippet() == "Title"


def test_parse_tags() -> None:
    assert parse_tags("travel, #Alps,  photo , alps,") == ("travel", "Alps", "photo")
    assert parse_tags("#one two  #Three") == ("one", "two", "Three")
    assert parse_tags("  ") == ()

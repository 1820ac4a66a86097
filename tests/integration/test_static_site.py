"""The static site channel against real folders: files, images, crashes, collisions, reconcile."""

from __future__ import annotations

import asyncio
import errno
import os
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import frontmatter
import httpx
import pytest
from PIL import Image as PILImage

from staffetta.channels import static_site
from staffetta.channels.static_site import StaticSiteChannel
from staffetta.core.channel import DeliveryContext, Fix, Outcome, PublishResult, Reconciled
from staffetta.core.clock import FakeClock
from staffetta.core.errors import InputError, PermanentError, TransientError
from staffetta.core.model import Account, ChannelGroup, Delivery, Image, Post, State

FLAVOURS = ["hugo", "jekyll", "eleventy"]
T = TypeVar("T")


# --- helpers ------------------------------------------------------------------------------------


def jpeg_with_gps(path: Path) -> Path:
    exif = PILImage.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {1: "N", 2: (45.0, 27.0, 50.0), 3: "E", 4: (9.0, 11.0, 25.0)}  # GPSInfo
    PILImage.new("RGB", (64, 48), (200, 30, 30)).save(path, "JPEG", exif=exif)
    with PILImage.open(path) as check:  # the fixture really carries a location
        assert check.getexif().get_ifd(0x8825)
    return path


def png(path: Path) -> Path:
    PILImage.new("RGBA", (20, 10), (0, 0, 255, 128)).save(path, "PNG")
    return path


@dataclass
class Site:
    root: Path
    folder: Path
    flavour: str

    def account(self, **settings: str) -> Account:
        base = {"folder": str(self.folder), "flavour": self.flavour}
        return Account(id="site-1", channel="static_site", name="My site", settings=base | settings)


def make_site(tmp_path: Path, flavour: str) -> Site:
    root = tmp_path / "site"
    if flavour == "jekyll":
        folder = root / "_posts"
        folder.mkdir(parents=True)
        (root / "_config.yml").write_text("title: test\n")
    elif flavour == "hugo":
        folder = root / "content" / "posts"
        folder.mkdir(parents=True)
    else:
        folder = root / "posts"
        folder.mkdir(parents=True)
    return Site(root, folder, flavour)


@dataclass
class Attempt:
    """One delivery as the engine would hand it to the channel, with a durable checkpoint."""

    post: Post
    account: Account
    key: str = "delivery-key-1"
    checkpoint: dict[str, Any] = field(default_factory=dict)
    clock: FakeClock = field(default_factory=FakeClock)
    saves: int = 0

    def context(self, http: httpx.AsyncClient) -> DeliveryContext:
        delivery = Delivery(
            id=1,
            post_id=1,
            account_id=self.account.id,
            state=State.SENDING,
            idempotency_key=self.key,
            not_before=0.0,
            next_attempt_at=0.0,
            checkpoint=dict(self.checkpoint),
        )

        async def save_checkpoint(data: dict[str, Any]) -> None:
            self.checkpoint = dict(data)
            self.saves += 1

        return DeliveryContext(
            post=self.post,
            account=self.account,
            delivery=delivery,
            secret=None,
            http=http,
            clock=self.clock,
            save_checkpoint=save_checkpoint,
        )


def run(step: Callable[[httpx.AsyncClient], Awaitable[T]]) -> T:
    async def main() -> T:
        async with httpx.AsyncClient() as http:  # never used: the channel needs no network
            return await step(http)

    return asyncio.run(main())


def publish(attempt: Attempt) -> PublishResult:
    return run(lambda http: StaticSiteChannel().publish(attempt.context(http)))


def reconcile(attempt: Attempt) -> Reconciled:
    return run(lambda http: StaticSiteChannel().reconcile(attempt.context(http)))


def post_files(site: Site) -> list[Path]:
    return sorted(p for p in site.folder.rglob("*.md"))


def leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if "staffetta-tmp" in p.name or p.name.startswith(".")]


IMAGE_REF = re.compile(r"!\[(?P<alt>(?:\\.|[^\]])*)\]\((?P<src>[^)]*)\)")


def referenced_file(site: Site, post_file: Path, src: str) -> Path:
    liquid = re.fullmatch(r"\{\{ '(?P<path>/[^']+)' \| relative_url \}\}", src)
    if liquid:
        assert site.flavour == "jekyll"
        return site.root / liquid["path"].lstrip("/")
    assert site.flavour != "jekyll"
    return post_file.parent / src


def sample_post(tmp_path: Path) -> Post:
    return Post(
        title="Una giornata al mare: sole, [vento] e caffè",
        body="Siamo partiti *presto*.\n\n- asciugamano\n- crema\n\nhttps://example.com",
        tags=("travel", "sea"),
        link="https://example.com/trip",
        images=(
            Image(path=str(jpeg_with_gps(tmp_path / "beach.jpg")), alt="Waves on [sandy] beach"),
            Image(path=str(png(tmp_path / "map.png")), alt="Map of the\ncoast"),
        ),
    )


# --- publishing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_publish_writes_front_matter_and_images(tmp_path: Path, flavour: str) -> None:
    site = make_site(tmp_path, flavour)
    attempt = Attempt(sample_post(tmp_path), site.account())

    result = publish(attempt)

    [post_file] = post_files(site)
    assert result.remote_id == post_file.relative_to(site.folder).as_posix()
    assert result.url == post_file.as_uri()
    written = frontmatter.load(post_file)
    meta = written.metadata
    slug = meta["slug"]
    assert slug.startswith("una-giornata-al-mare-sole-vento-e-caffe-")
    assert meta["title"] == "Una giornata al mare: sole, [vento] e caffè"
    assert datetime.fromisoformat(meta["date"]).timestamp() == attempt.clock.now()
    assert datetime.fromisoformat(meta["date"]).utcoffset() is not None
    assert meta["tags"] == ["travel", "sea"]
    assert meta["draft"] is False
    assert meta["link"] == "https://example.com/trip"
    assert meta["staffetta_delivery"] == "delivery-key-1"
    if flavour == "jekyll":
        day = datetime.fromisoformat(meta["date"]).strftime("%Y-%m-%d")
        assert post_file == site.folder / f"{day}-{slug}.md"
    else:
        assert post_file == site.folder / slug / "index.md"
    assert written.content.startswith("Siamo partiti *presto*.\n\n- asciugamano")
    # The slug was made durable before anything was written, with where the post goes.
    assert attempt.checkpoint == {"slug": slug, "date": meta["date"], "path": result.remote_id}

    refs = [(m["alt"], m["src"]) for m in IMAGE_REF.finditer(written.content)]
    assert [alt for alt, _ in refs] == [r"Waves on \[sandy\] beach", "Map of the coast"]
    copied = [referenced_file(site, post_file, src) for _, src in refs]
    assert all(path.is_file() for path in copied)
    with PILImage.open(copied[0]) as jpeg:
        assert jpeg.format == "JPEG"
        assert not jpeg.getexif().get_ifd(0x8825)
        assert len(jpeg.getexif()) == 0
    assert b"SpyCam" not in copied[0].read_bytes()
    with PILImage.open(copied[1]) as image:
        assert image.size == (20, 10)
    assert leftovers(site.root) == []


def test_hugo_images_subfolder_and_site_url(tmp_path: Path) -> None:
    site = make_site(tmp_path, "hugo")
    account = site.account(images_subfolder="images", site_url="https://me.example/posts/")
    attempt = Attempt(sample_post(tmp_path), account)

    result = publish(attempt)

    [post_file] = post_files(site)
    slug = post_file.parent.name
    assert result.url == f"https://me.example/posts/{slug}/"
    content = post_file.read_text()
    assert "](images/image-1.jpg)" in content
    assert (post_file.parent / "images" / "image-1.jpg").is_file()


def test_jekyll_site_url_template_and_schedule(tmp_path: Path) -> None:
    site = make_site(tmp_path, "jekyll")
    account = site.account(site_url="https://me.example/{year}/{month}/{day}/{slug}.html")
    scheduled = datetime(2030, 3, 9, 8, 15).astimezone()
    post = Post(body="Una prova", title="Marzo", scheduled_at=scheduled.timestamp())
    attempt = Attempt(post, account)

    result = publish(attempt)

    [post_file] = post_files(site)
    assert post_file.name.startswith("2030-03-09-marzo-")
    slug = post_file.stem.removeprefix("2030-03-09-")
    assert result.url == f"https://me.example/2030/03/09/{slug}.html"
    assert datetime.fromisoformat(frontmatter.load(post_file)["date"]) == scheduled


@pytest.mark.parametrize("flavour", ["jekyll", "eleventy"])
def test_liquid_sites_keep_braces_as_text(tmp_path: Path, flavour: str) -> None:
    site = make_site(tmp_path, flavour)
    publish(Attempt(Post(body="Template: {{ page.title }} and {% if x %}"), site.account()))
    [post_file] = post_files(site)
    content = frontmatter.load(post_file).content
    assert content == "{% raw %}\nTemplate: {{ page.title }} and {% if x %}\n{% endraw %}"


def test_post_without_title_has_no_title_key_and_slug_from_body(tmp_path: Path) -> None:
    site = make_site(tmp_path, "hugo")
    publish(Attempt(Post(body="🎉 Oggi è festa grande a Milano! " * 3), site.account()))
    [post_file] = post_files(site)
    meta = frontmatter.load(post_file).metadata
    assert "title" not in meta
    assert meta["slug"].startswith("oggi-e-festa-grande-a-milano-oggi-e-")
    assert meta["tags"] == []


@pytest.mark.parametrize(
    ("title", "body", "prefix"),
    [
        ("Perché è così difficile?", "x", "perche-e-cosi-difficile-"),
        ("東京タワーへ行きました", "x", "東京タワーへ行きました-"),
        ("🎉🚀✨", "Festa in città", "festa-in-citta-"),
        ("🎉🚀✨", "👍", "post-"),
    ],
)
def test_unicode_titles_give_sane_slugs(tmp_path: Path, title: str, body: str, prefix: str) -> None:
    site = make_site(tmp_path, "hugo")
    publish(Attempt(Post(body=body, title=title), site.account()))
    [post_file] = post_files(site)
    slug = post_file.parent.name
    assert slug.startswith(prefix)
    assert re.fullmatch(re.escape(prefix) + r"[0-9a-f]{6}", slug)
    assert frontmatter.load(post_file)["title"] == title


# --- crashes, retries and collisions ------------------------------------------------------------


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_crash_after_checkpoint_then_retry_gives_exactly_one_post(
    tmp_path: Path, flavour: str
) -> None:
    site = make_site(tmp_path, flavour)
    attempt = Attempt(sample_post(tmp_path), site.account())

    # The process dies right after the slug became durable, before anything else happened.
    class Crash(BaseException):
        pass

    async def crash_after_saving(http: httpx.AsyncClient) -> None:
        ctx = attempt.context(http)
        save = ctx.save_checkpoint

        async def save_then_die(data: dict[str, Any]) -> None:
            await save(data)
            raise Crash

        ctx.save_checkpoint = save_then_die
        await StaticSiteChannel().publish(ctx)

    with pytest.raises(Crash):
        run(crash_after_saving)
    assert attempt.checkpoint["slug"]
    assert post_files(site) == []
    assert reconcile(attempt).outcome is Outcome.NOT_SENT

    # Half the work done: the images of the first attempt are there, the post file is not.
    later = Attempt(attempt.post, attempt.account, checkpoint=attempt.checkpoint)
    later.clock.advance(3 * 86400)  # days later: the date must not move (Jekyll file names)
    result = publish(later)

    [post_file] = post_files(site)
    assert frontmatter.load(post_file)["slug"] == attempt.checkpoint["slug"]
    assert result.remote_id == attempt.checkpoint["path"]
    assert datetime.fromisoformat(frontmatter.load(post_file)["date"]).timestamp() == (
        attempt.clock.now()
    )
    assert leftovers(site.root) == []


def test_retry_reuses_slug_whose_folder_already_holds_our_images(tmp_path: Path) -> None:
    site = make_site(tmp_path, "hugo")
    slug = "half-done-abc123"
    bundle = site.folder / slug
    bundle.mkdir()
    (bundle / "image-1.png").write_bytes(b"partial")  # copied before the crash
    (bundle / ".index.md.999-1.staffetta-tmp").write_bytes(b"---\ntitle: half")  # torn temp
    clock = FakeClock()
    checkpoint = {"slug": slug, "date": "2023-11-14T22:13:20+00:00", "path": f"{slug}/index.md"}
    post = Post(body="Hello", title="Half done", images=(Image(str(png(tmp_path / "a.png")), "A"),))

    result = publish(Attempt(post, site.account(), checkpoint=checkpoint, clock=clock))

    assert result.remote_id == f"{slug}/index.md"
    assert post_files(site) == [bundle / "index.md"]
    with PILImage.open(bundle / "image-1.png") as image:  # replaced by the real image
        assert image.size == (20, 10)
    assert leftovers(site.root) == []


def test_publishing_again_is_idempotent(tmp_path: Path) -> None:
    site = make_site(tmp_path, "jekyll")
    attempt = Attempt(Post(body="Once", title="Once only"), site.account())
    first = publish(attempt)
    before = post_files(site)[0].read_bytes()

    again = publish(Attempt(attempt.post, attempt.account, checkpoint=attempt.checkpoint))
    # Even with the checkpoint lost, the file carrying our key is found and not rewritten.
    lost = Attempt(attempt.post, attempt.account)
    without = publish(lost)

    assert again == first == without
    assert lost.saves == 0
    assert len(post_files(site)) == 1
    assert post_files(site)[0].read_bytes() == before


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_slug_taken_by_a_foreign_post_gets_another_name(tmp_path: Path, flavour: str) -> None:
    # Learn where this delivery would go, in a scratch site.
    scratch = make_site(tmp_path / "scratch", flavour)
    post = Post(body="Hello", title="Ciao mondo")
    publish(Attempt(post, scratch.account()))
    [scratch_file] = post_files(scratch)
    taken_slug = frontmatter.load(scratch_file)["slug"]

    site = make_site(tmp_path, flavour)
    foreign = site.folder / scratch_file.relative_to(scratch.folder)
    foreign.parent.mkdir(parents=True, exist_ok=True)
    foreign_bytes = b"---\ntitle: Someone else's post\nslug: x\n---\nTheirs.\n"
    foreign.write_bytes(foreign_bytes)

    attempt = Attempt(post, site.account())
    result = publish(attempt)

    assert foreign.read_bytes() == foreign_bytes
    assert len(post_files(site)) == 2
    ours = site.folder / result.remote_id
    assert ours != foreign
    new_slug = frontmatter.load(ours)["slug"]
    assert new_slug != taken_slug
    assert new_slug.startswith("ciao-mondo-")
    assert reconcile(attempt).outcome is Outcome.SENT


def test_foreign_folder_without_post_file_is_not_taken_over(tmp_path: Path) -> None:
    scratch = make_site(tmp_path / "scratch", "hugo")
    post = Post(body="Hello", title="Ciao mondo")
    publish(Attempt(post, scratch.account()))
    [scratch_file] = post_files(scratch)

    site = make_site(tmp_path, "hugo")
    theirs = site.folder / scratch_file.parent.name
    theirs.mkdir()
    (theirs / "notes.txt").write_text("mine")

    result = publish(Attempt(post, site.account()))

    assert not result.remote_id.startswith(theirs.name)
    assert sorted(p.name for p in theirs.iterdir()) == ["notes.txt"]


# --- reconcile ----------------------------------------------------------------------------------


def test_reconcile(tmp_path: Path) -> None:
    site = make_site(tmp_path, "hugo")
    account = site.account(site_url="https://me.example/posts")
    attempt = Attempt(Post(body="Hi", title="Reconcile me"), account)

    assert reconcile(attempt).outcome is Outcome.NOT_SENT  # nothing checkpointed

    result = publish(attempt)
    sent = reconcile(attempt)
    assert sent.outcome is Outcome.SENT
    assert sent.remote_id == result.remote_id
    assert sent.url == f"https://me.example/posts/{attempt.checkpoint['slug']}/"

    other_key = Attempt(attempt.post, account, key="another", checkpoint=attempt.checkpoint)
    assert reconcile(other_key).outcome is Outcome.NOT_SENT  # the file is not that delivery's

    (site.folder / result.remote_id).unlink()
    assert reconcile(attempt).outcome is Outcome.NOT_SENT


def test_reconcile_without_site_url_gives_a_file_uri(tmp_path: Path) -> None:
    site = make_site(tmp_path, "eleventy")
    attempt = Attempt(Post(body="Hi"), site.account())
    publish(attempt)
    sent = reconcile(attempt)
    assert sent.url == (site.folder / sent.remote_id).as_uri()
    assert sent.url.startswith("file://")


# --- errors -------------------------------------------------------------------------------------


def test_missing_folder_is_a_clear_permanent_error(tmp_path: Path) -> None:
    missing = tmp_path / "unplugged" / "content" / "posts"
    account = Account("site-1", "static_site", "My site", {"folder": str(missing)})
    channel = StaticSiteChannel()

    with pytest.raises(PermanentError) as info:
        publish(Attempt(Post(body="Hi"), account))
    assert str(missing) in str(info.value)
    assert "does not exist" in str(info.value)
    assert "connect" in str(info.value)
    assert not missing.exists()  # never recreated

    with pytest.raises(TransientError, match="does not exist"):
        run(lambda http: channel.probe(http, account))
    with pytest.raises(InputError, match="does not exist"):
        run(lambda http: channel.verify(http, account, None))

    missing.mkdir(parents=True)  # the drive is back
    run(lambda http: channel.probe(http, account))
    assert run(lambda http: channel.verify(http, account, None)) == str(missing)


def test_bad_settings_are_permanent_with_advice(tmp_path: Path) -> None:
    for settings, words in [
        ({}, "has no content folder"),
        ({"folder": "relative/posts"}, "not a full path"),
        ({"folder": str(tmp_path), "flavour": "gatsby"}, "hugo, jekyll, eleventy"),
        ({"folder": str(tmp_path), "images_subfolder": "../up"}, "images subfolder"),
    ]:
        account = Account("site-1", "static_site", "My site", settings)
        with pytest.raises(PermanentError, match=re.escape(words)):
            publish(Attempt(Post(body="Hi"), account))


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores permissions"
)
def test_read_only_folder_is_permanent(tmp_path: Path) -> None:
    site = make_site(tmp_path, "hugo")
    site.folder.chmod(0o500)
    try:
        with pytest.raises(PermanentError, match="not allowed to write"):
            publish(Attempt(Post(body="Hi"), site.account()))
    finally:
        site.folder.chmod(0o700)


def test_unreadable_image_fails_permanently_and_leaves_nothing(tmp_path: Path) -> None:
    site = make_site(tmp_path, "hugo")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    post = Post(
        body="Hi",
        images=(Image(str(png(tmp_path / "ok.png")), "fine"), Image(str(broken), "broken")),
    )
    attempt = Attempt(post, site.account())

    with pytest.raises(PermanentError, match="Image 2"):
        publish(attempt)

    assert post_files(site) == []
    assert list(site.folder.iterdir()) == []  # the first image and the bundle were removed


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (errno.ENOSPC, TransientError),
        (errno.EIO, TransientError),
        (errno.EACCES, PermanentError),
        (errno.EROFS, PermanentError),
        (errno.ENAMETOOLONG, PermanentError),
    ],
)
def test_os_errors_are_classified(tmp_path: Path, code: int, kind: type[Exception]) -> None:
    error = static_site._classify_os_error(OSError(code, os.strerror(code), "x.md"), tmp_path)
    assert type(error) is kind
    assert str(tmp_path) in str(error)


# --- preview ------------------------------------------------------------------------------------


def test_preview(tmp_path: Path) -> None:
    site = make_site(tmp_path, "hugo")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"garbage")
    post = Post(
        title="Titolo",
        body="Ciao *mondo* 👩‍👩‍👧 https://example.com",
        images=(Image(str(png(tmp_path / "a.png")), ""), Image(str(broken), "alt")),
    )
    channel = StaticSiteChannel()

    preview = channel.preview(post, site.account())

    assert preview.limit == 0
    assert preview.title == "Titolo"
    assert preview.count == len("Ciao *mondo*  https://example.com") + 1  # emoji: 1 grapheme
    assert "<em>mondo</em>" in preview.html
    assert '<a href="https://example.com">' in preview.html
    by_code = {p.code: p for p in preview.problems}
    assert by_code["missing_alt"].blocking is False
    assert by_code["missing_alt"].fix is Fix.ADD_ALT
    assert "Image 1" in by_code["missing_alt"].message
    assert by_code["image_unusable"].blocking is True
    assert "Image 2" in by_code["image_unusable"].message
    assert "folder" not in by_code
    assert channel.limits(site.account()).max_chars == 0
    assert channel.limits(site.account()).uses_title is True
    assert channel.group is ChannelGroup.OWNED
    assert channel.needs_network is False


def test_preview_of_missing_folder_blocks(tmp_path: Path) -> None:
    account = Account("s", "static_site", "Site", {"folder": str(tmp_path / "gone")})
    preview = StaticSiteChannel().preview(Post(body="Hi"), account)
    assert preview.blocking
    [problem] = preview.problems
    assert problem.code == "folder"
    assert str(tmp_path / "gone") in problem.message


def test_folder_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "posts"
    not_a_folder.write_text("oops")
    account = Account("s", "static_site", "Site", {"folder": str(not_a_folder)})
    with pytest.raises(PermanentError, match="is a file, not a folder"):
        publish(Attempt(Post(body="Hi"), account))
    assert not_a_folder.read_text() == "oops"

"""Static site folder: the owned, offline, embedded default channel.

A post becomes a Markdown file with YAML front matter in the content folder of a Hugo, Jekyll or
Eleventy site, with its images copied (EXIF stripped) where that generator expects them:

``hugo``
    A leaf page bundle: ``<folder>/<slug>/index.md`` with the images beside it (or in
    ``<slug>/<images_subfolder>/``), referenced relatively: ``![alt](image-1.jpg)``. Hugo publishes
    bundle resources next to the page, so the relative links work as they are.
``jekyll``
    ``<folder>/YYYY-MM-DD-<slug>.md`` (``folder`` is ``_posts``). Jekyll does not copy images kept
    in ``_posts``, so they go to ``<site>/<images_subfolder or assets/images>/YYYY-MM-DD-<slug>/``,
    where ``<site>`` is the nearest folder above with a ``_config.yml`` (else the parent of
    ``folder``), and are referenced through ``relative_url`` so sites with a ``baseurl`` work.
``eleventy``
    A folder per post: ``<folder>/<slug>/index.md`` (URL ``/<folder>/<slug>/``) with the images
    beside it. Eleventy copies images only with a passthrough copy, e.g.
    ``eleventyConfig.addPassthroughCopy("posts/**/*.{jpg,png,gif,webp}")``.

The front matter holds ``title`` (when the post has one), ``date`` (ISO 8601 with the offset, of the
scheduled time or the first attempt), ``tags``, ``slug``, ``draft: false``, ``link`` when set, and
``staffetta_delivery``: the delivery's idempotency key, which proves to :meth:`reconcile` that a
file is ours.

Crash safety: the slug (title or first words + a suffix from the idempotency key) and the date are
checkpointed before anything is written, so a retry writes to the same place. Every file is written
to a temporary file in the same folder, flushed, fsynced, renamed over the target and the folder
fsynced; images first, the post file last, so *the post file existing means published*. A slug
taken by someone else's file gets another suffix; nothing that is not ours is ever overwritten.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from staffetta.core.channel import (
    Channel,
    DeliveryContext,
    Field,
    Fix,
    Limits,
    Outcome,
    Preview,
    PreviewPart,
    Problem,
    PublishResult,
    Reconciled,
)
from staffetta.core.errors import (
    DeliveryError,
    InputError,
    PermanentError,
    StaffettaError,
    TransientError,
)
from staffetta.core.lazy import lazy_module
from staffetta.core.model import Account, ChannelGroup, Post
from staffetta.core.postfile import render_html, slugify
from staffetta.core.text import entities, grapheme_count

if TYPE_CHECKING:
    import asyncio
    import hashlib

    import httpx

    from staffetta.core import media
else:
    httpx = lazy_module("httpx")
    asyncio = lazy_module("asyncio")
    hashlib = lazy_module("hashlib")
    # Pillow and image handling: with the first image
    media = lazy_module("staffetta.core.media")

FLAVOURS = ("hugo", "jekyll", "eleventy")
MAX_IMAGES = 50
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
DELIVERY_KEY = "staffetta_delivery"
_SUFFIX_LEN = 6
_MAX_CANDIDATES = 16  # different suffixes tried before giving up on a crowded slug
_BASE_SLUG_LEN = 50
_BODY_SLUG_WORDS = 8
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}

# errno values that say "not now" rather than "never": retrying later can succeed by itself.
_TRANSIENT_ERRNOS = frozenset(
    getattr(errno, name)
    for name in (
        "ENOSPC",  # disk full: space gets freed
        "EDQUOT",
        "EIO",
        "EAGAIN",
        "EBUSY",
        "EINTR",
        "ETIMEDOUT",
        "ENOTCONN",
        "ESTALE",  # network shares
        "EHOSTDOWN",
        "EHOSTUNREACH",
        "ENETDOWN",
        "ENETUNREACH",
        "ECONNRESET",
        "ENOMEM",
        "EMFILE",
        "ENFILE",
        "ENODEV",
        "ENXIO",
    )
    if hasattr(errno, name)
)
_WINDOWS_SHARING_VIOLATIONS = frozenset({32, 33})  # a file is held open by another program


class _Settings(NamedTuple):
    folder: Path
    flavour: str
    images_subfolder: str
    site_url: str


class _Layout(NamedTuple):
    """Where one post and its images go for a given slug and date."""

    folder: Path
    slug: str
    post_file: Path
    image_dir: Path
    image_root: Path  # must exist already: image_dir's missing parents are created below it
    image_url_prefix: str  # "" / "images/" for bundles, "/assets/images/<stem>/" for Jekyll
    liquid: bool  # Jekyll/Eleventy run Markdown through Liquid
    claims: tuple[Path, ...]  # paths whose existence means the slug is taken

    @property
    def remote_id(self) -> str:
        return self.post_file.relative_to(self.folder).as_posix()

    def image_src(self, name: str) -> str:
        if self.image_url_prefix.startswith("/"):
            return "{{ '" + self.image_url_prefix + name + "' | relative_url }}"
        return self.image_url_prefix + name


class StaticSiteChannel(Channel):
    """Markdown + front matter into a Hugo/Jekyll/Eleventy content folder. No network, no secret."""

    name = "static_site"
    label = "Static site folder"
    group = ChannelGroup.OWNED
    needs_network = False
    fields = (
        Field(
            "folder",
            "Content folder",
            help="The folder your site's posts live in: content/posts (Hugo), _posts (Jekyll), "
            "posts (Eleventy).",
        ),
        Field(
            "flavour",
            "Site generator",
            help="hugo, jekyll or eleventy: decides file names and where images go.",
            required=False,
            default="hugo",
        ),
        Field(
            "images_subfolder",
            "Images subfolder",
            help="Optional. Hugo/Eleventy: a folder inside each post's folder (e.g. images). "
            "Jekyll: a folder of the site (default assets/images).",
            required=False,
        ),
        Field(
            "site_url",
            "Address of the posts",
            help="Optional, e.g. https://example.com/posts/ — the slug is added at the end, or "
            "use {slug}, {year}, {month}, {day} to place it.",
            required=False,
        ),
    )

    def __init__(self) -> None:
        self._image_checks: dict[tuple[str, int, int], str | None] = {}
        self._html_cache: tuple[str, str] = ("", "")  # render_html("") without loading Markdown

    # --- identity -----------------------------------------------------------------------------
    def endpoint(self, account: Account) -> str:
        return f"{self.name}:{account.settings.get('folder', '')}"

    def handle(self, account: Account) -> str:
        return str(account.settings.get("folder", "")) or account.name

    # --- composing ----------------------------------------------------------------------------
    def limits(self, account: Account) -> Limits:
        return Limits(
            max_chars=0,
            max_images=MAX_IMAGES,
            max_image_bytes=MAX_IMAGE_BYTES,
            max_image_pixels=MAX_IMAGE_PIXELS,
            uses_title=True,
        )

    def preview(self, post: Post, account: Account) -> Preview:
        text = post.text_for(account.id)
        problems: list[Problem] = []
        try:
            settings = _settings(account)
        except StaffettaError as exc:
            problems.append(Problem("settings", str(exc)))
        else:
            folder_problem = _folder_problem(settings.folder)
            if folder_problem:
                problems.append(Problem("folder", folder_problem))
        if not text.strip() and not post.title.strip() and not post.images:
            problems.append(
                Problem("empty", "The post is empty: write a title, some text or add an image.")
            )
        if len(post.images) > MAX_IMAGES:
            problems.append(
                Problem(
                    "too_many_images",
                    f"A post can carry at most {MAX_IMAGES} images; this one has "
                    f"{len(post.images)}.",
                    fix=Fix.REMOVE_IMAGES,
                )
            )
        for number, image in enumerate(post.images, start=1):
            trouble = self._check_image(image.path)
            if trouble:
                problems.append(Problem("image_unusable", f"Image {number}: {trouble}"))
            if not image.alt.strip():
                problems.append(
                    Problem(
                        "missing_alt",
                        f"Image {number} has no alt text: readers using a screen reader will "
                        "not know what it shows.",
                        blocking=False,
                        fix=Fix.ADD_ALT,
                    )
                )
        return Preview(
            channel=self.name,
            account_name=account.name,
            handle=self.handle(account),
            parts=(PreviewPart(text=text, count=grapheme_count(text), spans=entities(text)),),
            limit=0,
            unit="characters",
            title=post.title,
            html=self._html(text),
            images=post.images,
            problems=tuple(problems),
        )

    def _html(self, text: str) -> str:
        # Previews re-render on every keystroke for every account; the body rarely changes
        # between two calls for different accounts.
        if self._html_cache[0] != text:
            self._html_cache = (text, render_html(text))
        return self._html_cache[1]

    def _check_image(self, path: str) -> str | None:
        """Why the image cannot be published, or None. Cached by path, size and mtime."""
        try:
            stat = os.stat(path)
        except OSError as exc:
            return f"{path} cannot be read ({exc.strerror or exc})."
        key = (path, stat.st_size, stat.st_mtime_ns)
        if key in self._image_checks:
            return self._image_checks[key]
        try:
            # Too many pixels or bytes is not a problem here: publishing scales the copy down.
            media.inspect_image(Path(path))
        except InputError as exc:
            trouble: str | None = str(exc)
        else:
            trouble = None
        if len(self._image_checks) > 256:
            self._image_checks.clear()
        self._image_checks[key] = trouble
        return trouble

    # --- delivering ---------------------------------------------------------------------------
    async def publish(self, ctx: DeliveryContext) -> PublishResult:
        try:
            settings = _settings(ctx.account)
        except InputError as exc:
            raise PermanentError(str(exc)) from None
        key = ctx.delivery.idempotency_key
        checkpoint = ctx.checkpoint
        date_text = checkpoint.get("date")
        if isinstance(date_text, str):
            when = datetime.fromisoformat(date_text)
        else:
            ts = ctx.post.scheduled_at if ctx.post.scheduled_at is not None else ctx.clock.now()
            when = datetime.fromtimestamp(ts, tz=UTC).astimezone()
        saved_slug = checkpoint.get("slug")
        layout, published = await asyncio.to_thread(
            _choose_layout,
            settings,
            ctx.post,
            key,
            when,
            saved_slug if isinstance(saved_slug, str) else None,
        )
        if not published:
            wanted = {
                "slug": layout.slug,
                "date": when.isoformat(timespec="seconds"),
                "path": layout.remote_id,
            }
            if any(checkpoint.get(k) != v for k, v in wanted.items()):
                await ctx.save_checkpoint({**checkpoint, **wanted})
            text = ctx.post.text_for(ctx.account.id)
            await asyncio.to_thread(_write_post, settings, layout, ctx.post, text, key, when)
        return PublishResult(remote_id=layout.remote_id, url=_url(settings, layout, when))

    async def reconcile(self, ctx: DeliveryContext) -> Reconciled:
        try:
            settings = _settings(ctx.account)
        except InputError as exc:
            raise PermanentError(str(exc)) from None
        slug = ctx.checkpoint.get("slug")
        date_text = ctx.checkpoint.get("date")
        if not isinstance(slug, str) or not isinstance(date_text, str):
            # The slug is checkpointed (durably) before anything is written: nothing was.
            return Reconciled(Outcome.NOT_SENT, evidence="No file was written for this post yet.")
        problem = await asyncio.to_thread(_folder_problem, settings.folder)
        if problem and not _is_dir(settings.folder):
            # An unplugged drive hides the file; "not sent" would be a guess. Ask again later.
            raise TransientError(f"Cannot check whether the post was written: {problem}")
        when = datetime.fromisoformat(date_text)
        layout = _layout(settings, slug, when)
        owner = await asyncio.to_thread(
            _owner_checked, settings, layout.post_file, ctx.delivery.idempotency_key
        )
        if owner == "ours":
            return Reconciled(
                Outcome.SENT,
                remote_id=layout.remote_id,
                url=_url(settings, layout, when),
                evidence=f"{layout.post_file} exists and carries this delivery's key.",
            )
        return Reconciled(
            Outcome.NOT_SENT, evidence=f"{layout.post_file} was not written by this delivery."
        )

    async def probe(self, http: httpx.AsyncClient, account: Account) -> None:
        try:
            settings = _settings(account)
        except InputError as exc:
            raise TransientError(str(exc)) from None
        problem = await asyncio.to_thread(_folder_problem, settings.folder)
        if problem:
            raise TransientError(problem)

    async def verify(self, http: httpx.AsyncClient, account: Account, secret: str | None) -> str:
        settings = _settings(account)
        problem = await asyncio.to_thread(_folder_problem, settings.folder)
        if problem:
            raise InputError(problem)
        return str(settings.folder)


# --- settings and layout ------------------------------------------------------------------------


def _settings(account: Account) -> _Settings:
    raw_folder = str(account.settings.get("folder") or "").strip()
    if not raw_folder:
        raise InputError(
            f"The static site account {account.name!r} has no content folder. Choose the folder "
            "your site's posts live in (e.g. content/posts for Hugo) in the account settings."
        )
    folder = Path(raw_folder).expanduser()
    if not folder.is_absolute():
        raise InputError(
            f"The content folder {raw_folder!r} of {account.name!r} is not a full path. "
            "Choose the folder again in the account settings."
        )
    flavour = str(account.settings.get("flavour") or "hugo").strip().lower()
    if flavour not in FLAVOURS:
        raise InputError(
            f"The site generator {flavour!r} of {account.name!r} is not supported: choose one of "
            f"{', '.join(FLAVOURS)} in the account settings."
        )
    sub = str(account.settings.get("images_subfolder") or "").strip().strip("/\\")
    if sub and (Path(sub).is_absolute() or ".." in Path(sub).parts):
        raise InputError(
            f"The images subfolder {sub!r} of {account.name!r} must be a folder name inside the "
            "site, like images or assets/images."
        )
    site_url = str(account.settings.get("site_url") or "").strip()
    return _Settings(folder=folder, flavour=flavour, images_subfolder=sub, site_url=site_url)


def _folder_problem(folder: Path) -> str | None:
    """A sentence saying why posts cannot be written to ``folder`` now, or None."""
    try:
        if not folder.exists():
            return (
                f"The site folder {folder} does not exist. If it is on a drive that is not "
                "connected, connect it; otherwise choose the folder again in the account settings."
            )
        if not folder.is_dir():
            return f"{folder} is a file, not a folder. Choose your site's content folder instead."
    except OSError as exc:
        return f"The site folder {folder} cannot be reached: {exc.strerror or exc}."
    if not os.access(folder, os.W_OK | os.X_OK):
        return (
            f"Staffetta is not allowed to write in {folder}. Make the folder writable, or choose "
            "another one in the account settings."
        )
    return None


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def _jekyll_site_root(folder: Path) -> Path:
    for candidate in (folder.parent, *folder.parent.parents):
        if (candidate / "_config.yml").is_file() or (candidate / "_config.toml").is_file():
            return candidate
    return folder.parent


def _layout(settings: _Settings, slug: str, when: datetime) -> _Layout:
    sub = settings.images_subfolder
    if settings.flavour == "jekyll":
        stem = f"{when:%Y-%m-%d}-{slug}"
        post_file = settings.folder / f"{stem}.md"
        root = _jekyll_site_root(settings.folder)
        images_root = Path(sub or "assets/images")
        image_dir = root / images_root / stem
        prefix = f"/{images_root.as_posix()}/{stem}/"
        return _Layout(
            settings.folder, slug, post_file, image_dir, root, prefix, True, (post_file, image_dir)
        )
    bundle = settings.folder / slug
    image_dir = bundle / sub if sub else bundle
    prefix = f"{Path(sub).as_posix()}/" if sub else ""
    return _Layout(
        settings.folder,
        slug,
        bundle / "index.md",
        image_dir,
        settings.folder,
        prefix,
        settings.flavour == "eleventy",
        (bundle,),
    )


def _base_slug(post: Post) -> str:
    words = [word for word in post.body.split() if any(c.isalnum() for c in word)]
    for source in (post.title, " ".join(words[:_BODY_SLUG_WORDS])):
        slug = slugify(source, max_len=_BASE_SLUG_LEN)
        if slug != "post" or source.strip().lower() == "post":
            return slug
    return "post"


def _candidate_slugs(post: Post, key: str) -> list[str]:
    base = _base_slug(post)
    slugs = []
    for attempt in range(_MAX_CANDIDATES):
        seed = key if attempt == 0 else f"{key}#{attempt}"
        suffix = hashlib.sha256(seed.encode("utf-8")).hexdigest()[:_SUFFIX_LEN]
        slugs.append(f"{base}-{suffix}")
    return slugs


def _choose_layout(
    settings: _Settings, post: Post, key: str, when: datetime, saved_slug: str | None
) -> tuple[_Layout, bool]:
    """The layout to write (or already written: the flag) for this delivery."""
    problem = _folder_problem(settings.folder)
    if problem:
        raise PermanentError(problem)
    candidates = _candidate_slugs(post, key)
    if saved_slug:
        candidates = [saved_slug, *(s for s in candidates if s != saved_slug)]
    for slug in candidates:
        layout = _layout(settings, slug, when)
        owner = _owner_checked(settings, layout.post_file, key)
        if owner == "ours":
            return layout, True
        if owner == "other":
            continue
        if slug == saved_slug:
            return layout, False  # our own leftovers (images) from an interrupted attempt
        try:
            taken = any(os.path.lexists(p) for p in layout.claims)
        except OSError as exc:
            raise _classify_os_error(exc, settings.folder) from None
        if not taken:
            return layout, False
    raise PermanentError(
        f"Every name tried for this post in {settings.folder} is already taken by other files "
        f"(last tried: {candidates[-1]}). Give the post a different title and publish it again."
    )


def _owner_checked(settings: _Settings, post_file: Path, key: str) -> str:
    try:
        return _owner(post_file, key)
    except OSError as exc:
        raise _classify_os_error(exc, settings.folder) from None


def _owner(post_file: Path, key: str) -> str:
    """ "ours" if ``post_file`` carries ``key``, "other" if it is someone else's, "none"."""
    if not os.path.lexists(post_file):
        return "none"
    if not post_file.is_file():
        return "other"
    import frontmatter  # (YAML loads at first use: a window start never needs it)
    import yaml

    raw = post_file.read_bytes()
    try:
        meta = frontmatter.loads(raw.decode("utf-8")).metadata
    except (UnicodeDecodeError, yaml.YAMLError, ValueError):
        return "other"
    return "ours" if meta.get(DELIVERY_KEY) == key else "other"


def _url(settings: _Settings, layout: _Layout, when: datetime) -> str:
    if not settings.site_url:
        return layout.post_file.as_uri()
    template = settings.site_url
    values = {
        "slug": layout.slug,
        "year": f"{when:%Y}",
        "month": f"{when:%m}",
        "day": f"{when:%d}",
    }
    if "{slug}" in template:
        for name, value in values.items():
            template = template.replace("{" + name + "}", value)
        return template
    return f"{template.rstrip('/')}/{layout.slug}/"


# --- writing ------------------------------------------------------------------------------------


def _write_post(
    settings: _Settings, layout: _Layout, post: Post, text: str, key: str, when: datetime
) -> None:
    """Images first, the post file last; on failure remove what this attempt wrote."""
    written: list[Path] = []
    created: list[Path] = []
    post_in_place = False
    try:
        created.extend(_make_dirs(layout.post_file.parent, under=settings.folder))
        created.extend(_make_dirs(layout.image_dir, under=layout.image_root))
        references: list[str] = []
        for number, image in enumerate(post.images, start=1):
            try:
                prepared = media.prepare_image(
                    Path(image.path), max_bytes=MAX_IMAGE_BYTES, max_pixels=MAX_IMAGE_PIXELS
                )
            except InputError as exc:
                raise PermanentError(f"Image {number} cannot be published: {exc}") from None
            extension = _EXTENSIONS.get(prepared.mime, prepared.format.lower())
            name = f"image-{number}.{extension}"
            target = layout.image_dir / name
            _atomic_write(target, prepared.data)
            written.append(target)
            references.append(f"![{_escape_alt(image.alt)}]({layout.image_src(name)})")
        document = _document(post, text, key, when, layout, references)
        _replace_atomically(layout.post_file, document.encode("utf-8"))
        post_in_place = True  # published: from here on, never remove its images
        _fsync_dir(layout.post_file.parent)
    except BaseException as exc:
        if isinstance(exc, OSError):
            exc = _classify_os_error(exc, settings.folder)
        if post_in_place:
            # Only the final directory sync failed: a retry finds the post and reports it.
            raise exc from None
        for path in written:
            with contextlib.suppress(OSError):
                path.unlink()
        for directory in reversed(created):
            with contextlib.suppress(OSError):
                directory.rmdir()  # only if empty: never someone else's files
        raise exc from None


def _document(
    post: Post, text: str, key: str, when: datetime, layout: _Layout, references: list[str]
) -> str:
    meta: dict[str, Any] = {}
    if post.title.strip():
        meta["title"] = post.title.strip()
    meta["date"] = when.isoformat(timespec="seconds")
    meta["tags"] = list(post.tags)
    meta["slug"] = layout.slug
    meta["draft"] = False
    if post.link:
        meta["link"] = post.link
    meta[DELIVERY_KEY] = key
    import yaml

    header = yaml.safe_dump(
        meta, sort_keys=False, allow_unicode=True, default_flow_style=False, width=4096
    )
    body = text.strip()
    if body and layout.liquid and ("{{" in body or "{%" in body):
        # Jekyll and Eleventy run Markdown through Liquid: keep the user's braces as text.
        body = "{% raw %}\n" + body + "\n{% endraw %}"
    blocks = [block for block in (body, *references) if block]
    return f"---\n{header}---\n\n" + "\n\n".join(blocks) + "\n"


def _escape_alt(alt: str) -> str:
    flat = " ".join(alt.split())
    return flat.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def _make_dirs(directory: Path, under: Path) -> list[Path]:
    """Create ``directory`` and its missing parents below ``under``; return them, outermost first.

    ``under`` itself is never created: a site folder that vanished (an unplugged drive) must not
    be recreated empty on the mount point.
    """
    missing: list[Path] = []
    current = directory
    while not current.is_dir():
        if current == under or current == current.parent:
            raise FileNotFoundError(errno.ENOENT, "The folder does not exist", str(current))
        missing.append(current)
        current = current.parent
    created: list[Path] = []
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:
            continue
        created.append(path)
        _fsync_dir(path.parent)
    return created


def _atomic_write(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` so that it is either the old file or entirely the new one."""
    _replace_atomically(target, data)
    _fsync_dir(target.parent)


def _replace_atomically(target: Path, data: bytes) -> None:
    """A durable temporary file in the same folder, renamed over ``target`` (not yet synced)."""
    directory = target.parent
    stale_prefix = f".{target.name}."
    with contextlib.suppress(OSError):
        # Temporary files of an earlier attempt at this same target that died mid-write: only
        # this delivery writes this target (the engine leases it), so they are ours.
        for leftover in directory.glob(f"{_glob_escape(stale_prefix)}*.staffetta-tmp"):
            leftover.unlink()
    temp = directory / f"{stale_prefix}{os.getpid()}-{threading.get_ident()}.staffetta-tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(temp, flags, 0o666)  # the umask applies, like any file the user creates
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise


def _glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[]" else c for c in text)


def _fsync_dir(directory: Path) -> None:
    """Make a rename or a new entry in ``directory`` durable, where the platform supports it."""
    if sys.platform == "win32":
        return  # directories cannot be opened for fsync; NTFS journals the rename
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def _classify_os_error(exc: OSError, folder: Path) -> DeliveryError:
    reason = exc.strerror or str(exc)
    where = f" ({exc.filename})" if exc.filename else ""
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return TransientError(
            f"The disk holding {folder} is full. Free some space; Staffetta will try again "
            "by itself."
        )
    folder_problem = _folder_problem(folder)
    if folder_problem and not _is_dir(folder):
        return PermanentError(folder_problem)
    winerror = getattr(exc, "winerror", None)
    if exc.errno in _TRANSIENT_ERRNOS or winerror in _WINDOWS_SHARING_VIOLATIONS:
        return TransientError(
            f"Writing the post into {folder} failed for now: {reason}{where}. "
            "Staffetta will try again."
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return PermanentError(
            f"Staffetta is not allowed to write in {folder}: {reason}{where}. Make the folder "
            "writable (or choose another one in the account settings), then retry."
        )
    if exc.errno == errno.ENAMETOOLONG:
        return PermanentError(
            f"The file name is too long for {folder}{where}. Give the post a shorter title."
        )
    return PermanentError(f"Writing the post into {folder} failed: {reason}{where}.")

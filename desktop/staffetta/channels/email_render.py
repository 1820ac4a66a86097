"""What the newsletter channels (SMTP, Buttondown, Listmonk) share: a post rendered as an e-mail.

A newsletter is the post's title as the subject, its Markdown body rendered with the app's one
Markdown renderer (:func:`staffetta.core.postfile.render_html`), then its images, each with its alt
text, and the post's link when the body does not already carry it. Bodies never reference the
attached images themselves (the composer attaches them beside the text), so the images always
follow the body, in order.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from staffetta.core.channel import Problem
from staffetta.core.model import Post
from staffetta.core.postfile import render_html


@dataclass(frozen=True, slots=True)
class Figure:
    """One image as the e-mail references it: ``src`` is a URL or a ``cid:`` reference."""

    src: str
    alt: str


def subject_of(post: Post) -> str:
    """The e-mail subject: the title on one line (a line break in a header would end it)."""
    return " ".join(post.title.split())


def flat_alt(alt: str) -> str:
    return " ".join(alt.split())


def newsletter_problems(post: Post, settings_trouble: str = "") -> list[Problem]:
    """What keeps a post from going out as an e-mail, on top of the owned channels' checks
    (:class:`staffetta.channels.owned_common.OwnedPreviewer`)."""
    problems = [Problem("settings", settings_trouble)] if settings_trouble else []
    if not subject_of(post):
        problems.append(Problem("no_subject", "An e-mail needs a subject: give the post a title."))
    return problems


# --- Markdown bodies (Buttondown, Listmonk) -------------------------------------------------------


def markdown_image(figure: Figure) -> str:
    """``![alt](url)`` with the alt text and URL escaped so Markdown reads them back whole."""
    alt = flat_alt(figure.alt)
    for char in ("\\", "[", "]"):
        alt = alt.replace(char, "\\" + char)
    url = figure.src
    if any(c in url for c in " ()<>"):
        url = "<" + url.replace("<", "%3C").replace(">", "%3E").replace(" ", "%20") + ">"
    return f"![{alt}]({url})"


def markdown_body(text: str, figures: Sequence[Figure], link: str = "") -> str:
    """The post's Markdown with its images (and link, if the text lacks it) after the text."""
    blocks = [text.strip()] if text.strip() else []
    blocks += [markdown_image(figure) for figure in figures]
    if link and link not in text:
        blocks.append(f"<{link}>")
    return "\n\n".join(blocks) + "\n"


# --- HTML e-mail (SMTP, Listmonk in HTML mode) ----------------------------------------------------


def html_body(text: str, figures: Sequence[Figure], link: str = "") -> str:
    """The body as HTML: the rendered Markdown, then one ``<figure>`` per image, then the link."""
    parts = [render_html(text)] if text.strip() else []
    for figure in figures:
        parts.append(
            f'<figure style="margin:24px 0"><img src="{html.escape(figure.src)}" '
            f'alt="{html.escape(flat_alt(figure.alt))}" '
            'style="display:block;max-width:100%;height:auto;border:0"></figure>\n'
        )
    if link and link not in text:
        safe = html.escape(link)
        parts.append(f'<p><a href="{safe}">{safe}</a></p>\n')
    return "".join(parts)


def html_document(subject: str, body: str, footer: str = "") -> str:
    """A complete, readable HTML e-mail: the subject as heading, the body, a small footer.

    Styles are inline because many mail programs drop ``<style>`` blocks.
    """
    title = html.escape(subject)
    foot = (
        '<hr style="border:0;border-top:1px solid #ddd;margin:32px 0 12px">'
        f'<p style="font-size:13px;color:#666">{footer}</p>'
        if footer
        else ""
    )
    return (
        "<!DOCTYPE html>\n"
        '<html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title></head>\n"
        '<body style="margin:0;padding:0;background:#f6f6f6">'
        '<div style="max-width:640px;margin:0 auto;padding:24px 20px;background:#ffffff;'
        "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
        'font-size:17px;line-height:1.55;color:#222">\n'
        f'<h1 style="font-size:26px;line-height:1.25;margin:0 0 20px">{title}</h1>\n'
        f"{body}{foot}\n</div></body></html>\n"
    )


def text_body(text: str, figures: Sequence[Figure], link: str = "", footer: str = "") -> str:
    """The plain-text alternative: Markdown reads well as it is; images become their alt text."""
    blocks = [text.strip()] if text.strip() else []
    for number, figure in enumerate(figures, start=1):
        alt = flat_alt(figure.alt)
        blocks.append(f"[Image {number}: {alt}]" if alt else f"[Image {number}]")
    if link and link not in text:
        blocks.append(link)
    if footer:
        blocks.append("-- \n" + footer)
    return "\n\n".join(blocks) + "\n"

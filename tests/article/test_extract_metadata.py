"""Title, date and author of real pages (newspaper4k's fixtures: CNN, Time, Wired, Yonhap, ...)."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import pytest

from bot.article.extract import extract_html
from bot.models import Article
from tests.conftest import CORPUS

FIXTURES = CORPUS / "extraction" / "newspaper4k-fixtures"
NAMES = sorted(
    p.stem
    for p in (FIXTURES / "metadata").glob("*.json")
    if (FIXTURES / "html" / f"{p.stem}.html").exists()
)


_PERSON = r"[A-Z][\w.]+( [\w.\"]+)+"


def _expected(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "metadata" / f"{name}.json").read_text("utf-8"))
    return data


@cache
def _extract(name: str) -> Article:
    expected = _expected(name)
    url = expected.get("url") or expected.get("canonical_link")
    return extract_html((FIXTURES / "html" / f"{name}.html").read_bytes(), url=url)


def _page_headline(name: str) -> str:
    html = (FIXTURES / "html" / f"{name}.html").read_text("utf-8", errors="replace")
    found = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S | re.I)
    return re.sub(r"<[^>]+>", " ", found.group(1)) if found else ""


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower().replace("’", "'")))


def test_fixtures_are_present() -> None:
    """The corpus holds the pages these tests read."""
    assert len(NAMES) >= 15


@pytest.mark.parametrize("name", NAMES)
def test_title_is_the_headline_without_site_name(name: str) -> None:
    """The title is the headline (the fixture's or the page's own <h1>), with no site name."""
    title = _extract(name).title
    assert title
    assert not re.search(r"\s[|»]\s", title)
    assert any(
        len(_words(title) & _words(headline)) >= 0.5 * len(_words(headline))
        for headline in (_expected(name)["title"], _page_headline(name))
        if headline.strip()
    )


@pytest.mark.parametrize(
    "name", [n for n in NAMES if (_expected(n).get("publish_date") or "")[:4].isdigit()]
)
def test_publish_date_matches(name: str) -> None:
    """The publication date is the one the page states."""
    published = _extract(name).published
    assert published is not None
    assert published.isoformat() == _expected(name)["publish_date"][:10]


@pytest.mark.parametrize(
    "name",
    # authors that are people's names (the fixtures also list sites and 'Print' as authors)
    [n for n in NAMES if any(re.fullmatch(_PERSON, a) for a in _expected(n)["authors"])],
)
def test_author_names_a_listed_author(name: str) -> None:
    """The author field names at least one of the article's authors (by surname)."""
    author = _extract(name).author or ""
    surnames = {a.split()[-1] for a in _expected(name)["authors"] if " " in a}
    assert any(s in author for s in surnames)


@pytest.mark.parametrize("name", NAMES)
def test_body_does_not_start_with_the_title(name: str) -> None:
    """The body starts after the headline: it is not repeated as the first paragraph."""
    article = _extract(name)
    assert article.title
    assert article.paragraphs
    assert article.paragraphs[0].strip() != article.title


_PAGE = (
    "<!doctype html><html><head><title>Harbour reopens</title>{meta}</head><body><article>"
    "<h1>Harbour reopens</h1>"
    + "<p>The harbour reopened on Monday after a week of repairs, officials said, and the "
    "first ferries sailed at dawn with every seat taken by people going home.</p>"
    * 4
    + "</article></body></html>"
)


@pytest.mark.parametrize(
    ("meta", "image"),
    [
        ('<meta property="og:image" content="/img/lead.jpg">', "https://news.example/img/lead.jpg"),
        (
            '<meta name="twitter:image" content="https://cdn.example/a.png">',
            "https://cdn.example/a.png",
        ),
        ('<meta property="og:image" content="data:image/png;base64,AAAA">', None),
        ('<meta property="og:image" content="javascript:alert(1)">', None),
        ("", None),
    ],
)
def test_the_lead_image_is_kept_as_an_absolute_web_address(meta: str, image: str | None) -> None:
    """A page's og:image (or twitter:image) is kept, made absolute against the page's
    address; anything but an http(s) address is dropped."""
    article = extract_html(_PAGE.format(meta=meta), url="https://news.example/story/1")
    assert article.image == image

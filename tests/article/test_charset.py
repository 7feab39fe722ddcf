"""Reading fetched bytes as text: header, declaration, byte-order mark, detection."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.article.charset import (
    charset_from_content_type,
    declared_charset,
    decode_body,
    detect_charset,
)
from tests.conftest import CORPUS

SAMPLES = CORPUS / "feeds/miniflux/encoding/testdata"


@pytest.mark.parametrize(
    ("file", "content_type", "expected"),
    [
        ("utf8.html", "text/html", "Café"),
        ("utf8.html", "text/html; charset=iso-8859-1", "Café"),
        ("iso-8859-1.html", "text/html", "Frédéric"),
        ("iso-8859-1.html", None, "Frédéric"),
        ("iso-8859-1-meta-after-1024.html", "text/html", "Frédéric"),
        ("utf8-meta-after-1024.html", "text/html", "Frédéric"),
        ("iso-8859-1.xml", "application/xml", "Café"),
        ("windows-1252.xml", "text/xml", "Euro €"),
        ("windows-1252-incorrect-prolog.xml", "text/xml", "Euro €"),
        ("koi8r.xml", "application/xml", "Пример RSS ленты"),
    ],
)
def test_pages_and_feeds_decode_to_their_text(
    file: str, content_type: str | None, expected: str
) -> None:
    """Real samples with right, wrong and missing labels decode to the intended text."""
    text = decode_body((SAMPLES / file).read_bytes(), content_type)
    assert expected in text
    assert "\ufffd" not in text


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Grüße".encode("utf-16"), "utf-16"),
        ("Grüße".encode("utf-8-sig"), "utf-8-sig"),
        ("Grüße".encode("utf-32"), "utf-32"),
    ],
)
def test_byte_order_mark_wins(body: bytes, expected: str) -> None:
    """A byte-order mark decides the encoding, whatever the header says."""
    assert detect_charset(body, "text/html; charset=iso-8859-1") == expected
    assert decode_body(body, "text/html; charset=iso-8859-1") == "Grüße"


def test_header_charset_is_used_when_the_bytes_fit() -> None:
    """A Windows-1251 page labelled in its header decodes by the header."""
    body = "<p>Привет, мир</p>".encode("cp1251")
    assert decode_body(body, "text/html; charset=windows-1251") == "<p>Привет, мир</p>"


@pytest.mark.parametrize(
    ("content_type", "charset"),
    [
        ("text/html; charset=UTF-8", "utf-8"),
        ('text/html; charset="utf-8"', "utf-8"),
        ("application/atom+xml;charset='us-ascii'", "cp1252"),
        ("text/html; charset=latin-1", "cp1252"),
        ("text/html; charset=no-such-charset", None),
        ("text/html", None),
        (None, None),
    ],
)
def test_charset_from_content_type(content_type: str | None, charset: str | None) -> None:
    """The charset parameter is read, quoted or not; Latin-1 labels read as Windows-1252."""
    assert charset_from_content_type(content_type) == charset


@pytest.mark.parametrize(
    ("head", "charset"),
    [
        (b'<?xml version="1.0" encoding="ISO-8859-1"?><rss/>', "cp1252"),
        (b"<?xml version='1.0' encoding='koi8-r'?><rss/>", "koi8-r"),
        (b'<html><head><meta charset="shift_jis"></head>', "shift_jis"),
        (b'<meta http-equiv="Content-Type" content="text/html; charset=euc-kr">', "euc_kr"),
        (b"<html><body>none</body></html>", None),
    ],
)
def test_declared_charset(head: bytes, charset: str | None) -> None:
    """XML declarations and HTML meta tags name the document's encoding."""
    assert declared_charset(head) == charset


@given(st.binary(max_size=2_000), st.sampled_from([None, "text/html", "text/html; charset=x"]))
def test_decoding_never_fails(body: bytes, content_type: str | None) -> None:
    """Any bytes at all decode to some text."""
    assert isinstance(decode_body(body, content_type), str)

"""Which character encoding a fetched document is in, and its text.

Order of evidence: a byte-order mark; bytes that are valid UTF-8 and not plain ASCII (servers
and templates mislabel UTF-8 as Latin-1 far more often than Latin-1 text happens to be valid
UTF-8); the Content-Type header's charset; the document's own XML declaration or HTML meta
tag; statistical detection (charset-normalizer); and finally Windows-1252 with replacement
characters, so decoding never fails.
"""

from __future__ import annotations

import codecs
import re
from email.message import Message

import charset_normalizer

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Browsers read these labels as Windows-1252 (WHATWG Encoding), and so do we: pages labelled
# Latin-1 routinely use its curly quotes and dashes.
_WINDOWS_1252_ALIASES = {"iso8859-1", "latin-1", "ascii", "us-ascii", "cp819", "iso-8859-1"}
_SNIFF_BYTES = 4096
_XML_DECLARATION = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)""")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)


def charset_from_content_type(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type header value, when it names a known codec."""
    if not content_type:
        return None
    message = Message()
    message["content-type"] = content_type
    charset = message.get_param("charset")
    if not isinstance(charset, str):
        return None
    return known_codec(charset.strip().strip("'\""))


def declared_charset(body: bytes) -> str | None:
    """The encoding a document declares in its XML declaration or an HTML meta tag."""
    head = body[:_SNIFF_BYTES]
    match = _XML_DECLARATION.match(head) or _META_CHARSET.search(head)
    return known_codec(match.group(1).decode("ascii")) if match else None


def known_codec(label: str) -> str | None:
    """The Python codec name for a charset label, or None when Python does not know it."""
    try:
        name = codecs.lookup(label).name
    except (LookupError, ValueError):
        return None
    return "cp1252" if name in _WINDOWS_1252_ALIASES else name


def bom_charset(body: bytes) -> str | None:
    """The encoding a byte-order mark announces, if the body starts with one."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    return None


def is_utf8_text(body: bytes) -> bool:
    """Whether the body is valid UTF-8 with at least one non-ASCII character."""
    if body.isascii():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def detect_charset(body: bytes, content_type: str | None = None) -> str:
    """The codec to read ``body`` with, by the evidence in the module's docstring."""
    bom = bom_charset(body)
    if bom is not None:
        return bom
    labelled = charset_from_content_type(content_type)
    declared = declared_charset(body)
    wide = next((c for c in (labelled, declared) if c and c.startswith(("utf-16", "utf-32"))), None)
    if wide is not None:
        return wide
    if is_utf8_text(body):
        return "utf-8"
    for candidate in (labelled, declared):
        if candidate is not None and _decodes(body, candidate):
            return candidate
    best = charset_normalizer.from_bytes(body[:65_536]).best()
    if best is not None:
        detected = known_codec(best.encoding)
        if detected is not None:
            return detected
    return "cp1252"


def decode_body(body: bytes, content_type: str | None = None) -> str:
    """The text of a fetched document; never raises, undecodable bytes become U+FFFD."""
    return body.decode(detect_charset(body, content_type), errors="replace")


def _decodes(body: bytes, codec: str) -> bool:
    try:
        body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return False
    return True

"""Links as newsbot keeps them: absolute http(s), and canonical for telling entries apart."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

_TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "ref",
        "ref_src",
        "ref_url",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "wt_mc",
        "cmpid",
        "at_medium",
        "at_campaign",
        "ocid",
        "smid",
        "xtor",
    }
)
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "itm_")
DEFAULT_PORTS = {"http": "80", "https": "443"}


def canonical_link(url: str) -> str:
    """A link in the form that identifies its page: no tracking parameters, no fragment.

    Scheme and host are lower-cased, default ports dropped, an empty path becomes ``/``, and
    query parameters such as ``utm_*``, ``fbclid``, ``gclid``, ``mc_cid`` or ``ref`` are
    removed (the others keep their order and spelling). Links that are not http(s) come back
    stripped of surrounding blanks only.
    """
    url = url.strip()
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower()
    if scheme not in DEFAULT_PORTS or not rest:
        return url
    rest = rest.split("#", 1)[0]
    authority_end = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    authority, path_query = rest[:authority_end], rest[authority_end:]
    path, _, query = path_query.partition("?")
    userinfo, at, hostport = authority.rpartition("@")
    host, port = _split_port(hostport)
    if port is None or port in ("", DEFAULT_PORTS[scheme]):
        hostport = host.lower()
    else:
        hostport = f"{host.lower()}:{port}"
    kept = [p for p in query.split("&") if p and not _is_tracking_param(p)]
    canonical = f"{scheme}://{userinfo}{at}{hostport}{path or '/'}"
    return f"{canonical}?{'&'.join(kept)}" if kept else canonical


def absolute_http_link(value: object, base: str | None, max_chars: int) -> str | None:
    """``value`` resolved against ``base``, if it is an http(s) link of at most ``max_chars``.

    Anything else (javascript:, data:, mailto:, relative without a base, over-long) is None.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    link = value.strip()
    if base:
        try:
            link = urljoin(base, link)
        except ValueError:
            return None
    if len(link) > max_chars:
        return None
    try:
        parts = urlsplit(link)
    except ValueError:
        return None
    if parts.scheme.lower() not in DEFAULT_PORTS or not parts.netloc:
        return None
    return link


def _split_port(hostport: str) -> tuple[str, str | None]:
    if hostport.startswith("["):
        close = hostport.find("]")
        if close >= 0:
            after = hostport[close + 1 :]
            port = after[1:] if after.startswith(":") else None
            return hostport[: close + 1], port
        return hostport, None
    host, colon, port = hostport.rpartition(":")
    if colon and (port.isdigit() or port == ""):
        return host, port
    return hostport, None


def _is_tracking_param(pair: str) -> bool:
    name = pair.split("=", 1)[0].lower()
    return name in _TRACKING_PARAMS or name.startswith(_TRACKING_PREFIXES)

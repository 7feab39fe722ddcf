"""A scriptable HTTP server on 127.0.0.1 for tests that need a real network peer.

Each path is given a :class:`Response` (or a sequence of them, one per request, the last one
repeating): status, headers, body, validators that turn conditional requests into 304s,
redirects, gzip, stalls, endless bodies. Every request is recorded.

    with LoopbackServer() as server:
        server.add("/feed.xml", Response(body=data, etag='"v1"'))
        server.add_file("/page.html", path_to_page)
        url = server.url("/feed.xml")

``requests`` lists what arrived; ``peak_in_flight`` is the most requests answered at once.
The server runs in a daemon thread (``ThreadingHTTPServer`` on port 0) and only ever listens
on the loopback interface.
"""

from __future__ import annotations

import gzip
import mimetypes
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import ClassVar

_CONTENT_TYPES = {
    ".xml": "application/xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".json": "application/feed+json",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


@dataclass(frozen=True)
class Response:
    """What the server answers on one path.

    ``etag`` / ``last_modified`` are sent as ETag / Last-Modified, and a request whose
    If-None-Match / If-Modified-Since matches them is answered 304 with no body.
    ``redirect_to`` sends a Location header (use a 3xx ``status``). ``gzip`` compresses the
    body when the client accepts it. ``stall_s`` waits before answering (longer than the
    client's timeout makes a stalling server). ``endless`` streams chunks until the client
    hangs up. ``headers`` are sent as given (``Content-Type`` included, so a wrong charset
    label is just a header).
    """

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    redirect_to: str | None = None
    gzip: bool = False
    stall_s: float = 0.0
    endless: bool = False


@dataclass(frozen=True)
class RecordedRequest:
    """A request the server received."""

    method: str
    path: str
    headers: Mapping[str, str]


class LoopbackServer:
    """An HTTP server on 127.0.0.1 with a scripted answer per path; use as a context manager."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on ``host`` (any 127.x.y.z address is loopback), ``port`` 0: any free one."""
        self._routes: dict[str, list[Response]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0
        self.peak_in_flight = 0
        handler = type("_BoundHandler", (_Handler,), {"owner": self})
        self._httpd = ThreadingHTTPServer((host, port), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> LoopbackServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start serving in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving; stalled and endless answers end at once."""
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on this server."""
        return self.base_url + path

    def add(self, path: str, response: Response) -> None:
        """Answer every request for ``path`` with ``response`` (replacing any earlier script)."""
        self.add_sequence(path, [response])

    def add_sequence(self, path: str, responses: Iterable[Response]) -> None:
        """Answer successive requests for ``path`` with ``responses``; the last one repeats."""
        script = list(responses)
        if not script:
            raise ValueError("add_sequence needs at least one response")
        with self._lock:
            self._routes[path] = script

    def add_file(
        self, path: str, file: Path, content_type: str | None = None, like: Response | None = None
    ) -> None:
        """Serve ``file`` on ``path``, answering as ``like`` does but with the file as body.

        The Content-Type is ``content_type``, else the one in ``like``, else a guess from the
        file's suffix.
        """
        like = like or Response()
        headers = dict(like.headers)
        if content_type is not None:
            headers["Content-Type"] = content_type
        headers.setdefault("Content-Type", guess_content_type(file))
        self.add(path, replace(like, body=file.read_bytes(), headers=headers))

    def hits(self, path: str) -> int:
        """How many requests arrived for ``path``."""
        with self._lock:
            return sum(1 for request in self.requests if request.path == path)

    def _next_response(self, path: str) -> Response | None:
        with self._lock:
            script = self._routes.get(path.split("?", 1)[0])
            if script is None:
                return None
            return script.pop(0) if len(script) > 1 else script[0]

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def _done(self) -> None:
        with self._lock:
            self.in_flight -= 1


def guess_content_type(file: Path) -> str:
    """A Content-Type for a corpus file, by its suffix."""
    known = _CONTENT_TYPES.get(file.suffix.lower())
    if known:
        return known
    guessed, _ = mimetypes.guess_type(file.name)
    return guessed or "application/octet-stream"


_NOT_FOUND = Response(status=404, body=b"not found", headers={"Content-Type": "text/plain"})


class _Handler(BaseHTTPRequestHandler):
    owner: ClassVar[LoopbackServer]
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet: tests read ``LoopbackServer.requests`` instead."""

    def do_GET(self) -> None:
        self._answer_counted(send_body=True)

    def do_HEAD(self) -> None:
        self._answer_counted(send_body=False)

    def _answer_counted(self, *, send_body: bool) -> None:
        method = "GET" if send_body else "HEAD"
        self.owner._record(RecordedRequest(method, self.path, dict(self.headers)))
        try:
            self._answer(send_body=send_body)
        finally:
            self.owner._done()

    def _answer(self, *, send_body: bool) -> None:
        owner = self.owner
        response = owner._next_response(self.path)
        if response is None:
            response = _NOT_FOUND
        if response.stall_s and owner._stopping.wait(response.stall_s):
            return
        if self._is_not_modified(response):
            self.send_response(304)
            self._send_validators(response)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self._send_validators(response)
        if response.redirect_to is not None:
            self.send_header("Location", response.redirect_to)
        if response.endless:
            self._send_endless(send_body=send_body)
            return
        body = response.body
        if response.gzip and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body)
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def _is_not_modified(self, response: Response) -> bool:
        if response.status != 200:
            return False
        if_none_match = self.headers.get("If-None-Match")
        if response.etag is not None and if_none_match is not None:
            return response.etag in {tag.strip() for tag in if_none_match.split(",")}
        if_modified_since = self.headers.get("If-Modified-Since")
        if response.last_modified is not None and if_modified_since is not None:
            try:
                return parsedate_to_datetime(response.last_modified) <= parsedate_to_datetime(
                    if_modified_since
                )
            except (TypeError, ValueError):
                return False
        return False

    def _send_validators(self, response: Response) -> None:
        if response.etag is not None:
            self.send_header("ETag", response.etag)
        if response.last_modified is not None:
            self.send_header("Last-Modified", response.last_modified)

    def _send_endless(self, *, send_body: bool) -> None:
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if not send_body:
            return
        chunk = b"<item>" + b"x" * 65_536 + b"</item>\n"
        frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        try:
            while not self.owner._stopping.is_set():
                self.wfile.write(frame)
        except OSError:
            return

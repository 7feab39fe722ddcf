"""The webhook server checks the secret itself (constant time) before an update is read: a
wrong or missing secret gets 403 and nothing reaches the bot; ``/healthz`` says 200 or 503."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from telegram import Bot

from bot.chat.webhook import HOOK_HEADER, WebhookServer, secret_matches

SECRET = "hook-Secret_0123456789"
UPDATE = {
    "update_id": 7,
    "message": {
        "message_id": 1,
        "date": 0,
        "chat": {"id": 42, "type": "private"},
        "text": "/start",
    },
}


def post(
    headers: dict[str, str], *, health: tuple[bool, str] = (True, "ok")
) -> tuple[int, list[object], httpx.Response]:
    """POST one update (and GET /healthz) to a real server on loopback; what the queue got."""

    async def main() -> tuple[int, list[object], httpx.Response]:
        queue: asyncio.Queue[object] = asyncio.Queue()
        server = WebhookServer(
            Bot("1:x"), queue, path="/hook", secret=SECRET, health=lambda: health
        )
        server.start("127.0.0.1", 0)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
                answer = await client.post(
                    "/hook",
                    content=json.dumps(UPDATE),
                    headers={"Content-Type": "application/json", **headers},
                )
                healthz = await client.get("/healthz")
        finally:
            await server.stop()
        got = []
        while not queue.empty():
            got.append(queue.get_nowait())
        return answer.status_code, got, healthz

    return asyncio.run(main())


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {HOOK_HEADER: ""},
        {HOOK_HEADER: "wrong"},
        {HOOK_HEADER: SECRET[:-1]},
        {HOOK_HEADER: SECRET + "x"},
    ],
)
def test_webhook_refuses_a_post_without_the_secret(headers: dict[str, str]) -> None:
    """A missing, empty, wrong, shorter or longer secret: 403, and no update is processed."""
    status, got, _ = post(headers)
    assert status == 403
    assert got == []


def test_webhook_takes_a_post_with_the_secret() -> None:
    status, got, _ = post({HOOK_HEADER: SECRET})
    assert status == 200
    assert [u.update_id for u in got] == [7]  # type: ignore[attr-defined]


@pytest.mark.parametrize(("alive", "code"), [(True, 200), (False, 503)])
def test_healthz_answers_the_judgement(alive: bool, code: int) -> None:
    _, _, healthz = post({HOOK_HEADER: SECRET}, health=(alive, "poll loop 3s ago"))
    assert healthz.status_code == code
    assert healthz.text == "poll loop 3s ago\n"


@pytest.mark.parametrize(
    ("expected", "sent", "ok"),
    [
        (None, None, True),
        (None, "any", True),
        ("s", None, False),
        ("s", "s", True),
        ("s", "t", False),
    ],
)
def test_secret_matches(expected: str | None, sent: str | None, ok: bool) -> None:
    assert secret_matches(expected, sent) is ok

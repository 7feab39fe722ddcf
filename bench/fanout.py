"""Fan-out benchmark: one digest to many subscribers through the loopback Bot API server.

Three runs in the same process, each on a fresh data directory:

1. limited: the delivery limiter at ``--rate`` msg/s (Telegram's 30): achieved rate ÷
   configured limit (wanted >= 0.95), messages lost and duplicated (the server's record
   judges: every chat must hold its message exactly once);
2. ceiling: the limiter raised to ``--ceiling-rate`` (10 000/s): the bot's own msg/s with the
   ledger (intent fsynced per batch, confirmations group-committed);
3. baseline: bare ``bot.send_message`` calls, same concurrency and server, no ledger: the
   ceiling ÷ baseline ratio is what durability costs.

Peak memory is the process's ru_maxrss (the loopback server runs in the same process).
Every 10th subscriber is a group (negative id); each gets one ~2 KB HTML message.

Run: ``python -m bench.fanout`` (10 000 chats: the limited run takes about 5.5 minutes) or
``python -m bench.fanout --chats 300`` (CI smoke size).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import resource
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from telegram import Bot
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from bot.delivery.ledger import Ledger, Outgoing
from bot.delivery.sender import Delivery, DeliverySettings, build_rate_limiter
from tests.support.botapi import BotApiServer

KEY_PATTERN = re.compile(r"\[k=([^\]]+)\]")
_ITEM = (
    '<b><a href="https://news.example/{n}">Talks to resume next week, minister says</a></b>\n'
    "<i>World News · 08:{m:02d}</i>\n"
    "The minister told reporters on Tuesday that the talks would resume next week, after both "
    "delegations had consulted their governments about the proposed ceasefire terms.\n"
    "«We are ready to talk as long as it takes» — the minister\n\n"
)


def chat_ids(count: int) -> list[int]:
    """Subscribers 1..count; every 10th is a group (negative id)."""
    return [-n if n % 10 == 0 else n for n in range(1, count + 1)]


def digest_batch(chats: Sequence[int], batch_id: str, *, parts: int = 1) -> list[Outgoing]:
    """One digest per chat in ``parts`` messages of ~2 KB, three articles each; every text
    carries its key as ``[k=...]`` so the server's record can be checked."""
    messages = []
    for chat in chats:
        for part in range(parts):
            key = f"digest:{chat}:{batch_id}:{part}"
            articles = tuple(f"{batch_id}-a{part * 3 + i}" for i in range(3))
            body = "".join(_ITEM.format(n=a, m=i) for i, a in enumerate(articles))
            messages.append(Outgoing(key, chat, f"{body}[k={key}]", articles, "digest"))
    return messages


def build_bot(base_url: str, token: str, settings: DeliverySettings) -> ExtBot[int]:
    """The bot as the app builds it: PTB's rate limiter on every request, a connection pool
    as large as the number of workers."""
    request = HTTPXRequest(connection_pool_size=settings.concurrency + 4)
    return ExtBot(
        token, base_url=base_url, request=request, rate_limiter=build_rate_limiter(settings)
    )


async def send_digest(
    base_url: str, token: str, data_dir: Path, messages: Sequence[Outgoing],
    settings: DeliverySettings,
) -> None:  # fmt: skip
    """Open the ledger, resume what is pending, submit the digest, send until done, drain."""

    async def ignore(*_: int) -> None:
        return None

    with Ledger.open(data_dir) as ledger:
        async with build_bot(base_url, token, settings) as bot:
            delivery = Delivery(
                bot, ledger, on_blocked=ignore, on_migrated=ignore, settings=settings
            )
            runner = asyncio.create_task(delivery.run())
            await delivery.submit(messages)
            await delivery.wait_idle()
            await delivery.drain(settings.drain_timeout_s)
            await runner


@dataclass(frozen=True)
class Tally:
    """What the server's record says about a fan-out."""

    delivered: int
    lost: int
    duplicated: int
    rate_msg_s: float  # delivered messages per second, first to last delivery


def accepted_keys(server: BotApiServer) -> list[str]:
    """The keys of the messages the server accepted (answered 200), in order, repeats kept."""
    return [
        key
        for call in server.calls_to("sendMessage")
        if call.status == 200
        for key in KEY_PATTERN.findall(str(call.params.get("text", "")))
    ]


def tally(server: BotApiServer, messages: Sequence[Outgoing]) -> Tally:
    expected = {m.key for m in messages}
    seen = [k for k in accepted_keys(server) if k in expected]
    times = [c.at for c in server.calls_to("sendMessage") if c.status == 200]
    span_s = max(times) - min(times) if len(times) > 1 else 0.0
    rate = (len(times) - 1) / span_s if span_s > 0 else float("inf")
    return Tally(len(seen), len(expected - set(seen)), len(seen) - len(set(seen)), rate)


async def _bare_sends(
    base_url: str, token: str, messages: Sequence[Outgoing], workers: int
) -> None:
    request = HTTPXRequest(connection_pool_size=workers + 4)
    queue: asyncio.Queue[Outgoing] = asyncio.Queue()
    for message in messages:
        queue.put_nowait(message)

    async def work(bot: Bot) -> None:
        while not queue.empty():
            message = queue.get_nowait()
            await bot.send_message(message.chat_id, message.text, parse_mode="HTML")

    async with Bot(token, base_url=base_url, request=request) as bot:
        await asyncio.gather(*(work(bot) for _ in range(workers)))


def _run(label: str, messages: Sequence[Outgoing], settings: DeliverySettings | None) -> Tally:
    with BotApiServer() as server, tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        if settings is None:
            asyncio.run(_bare_sends(server.base_url, server.token, messages, 8))
        else:
            asyncio.run(send_digest(server.base_url, server.token, Path(tmp), messages, settings))
        elapsed_s = time.perf_counter() - started
        result = tally(server, messages)
        ledger_note = ""
        if settings is not None:
            opened = time.perf_counter()
            Ledger.open(Path(tmp)).close()
            size_kib = sum(f.stat().st_size for f in (Path(tmp) / "ledger").iterdir()) / 1024
            ledger_note = (
                f" ledger_reopen={time.perf_counter() - opened:.2f} s ledger={size_kib:.0f} KiB"
            )
    print(
        f"{label:<9} messages={len(messages)} delivered={result.delivered} lost={result.lost} "
        f"duplicated={result.duplicated} rate={result.rate_msg_s:.1f} msg/s "
        f"wall={elapsed_s:.1f} s{ledger_note}",
        flush=True,
    )
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=30.0, help="limited run, msg/s")
    parser.add_argument("--ceiling-rate", type=float, default=10_000.0)
    parser.add_argument("--concurrency", type=int, default=DeliverySettings().concurrency)
    parser.add_argument("--skip-limited", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)

    messages = digest_batch(chat_ids(args.chats), "bench")
    base = DeliverySettings(concurrency=args.concurrency, drain_timeout_s=60.0)
    ok = True
    if not args.skip_limited:
        limited = _run("limited", messages, replace(base, messages_per_s=args.rate))
        ratio = limited.rate_msg_s / args.rate
        print(f"limited   achieved/configured = {ratio:.3f} (wanted >= 0.95)", flush=True)
        ok = ok and ratio >= 0.95 and limited.lost == 0 and limited.duplicated == 0
    unlimited = replace(
        base, messages_per_s=args.ceiling_rate, group_messages_per_min=args.ceiling_rate * 60
    )
    ceiling = _run("ceiling", messages, unlimited)
    bare = _run("baseline", messages, None)
    print(f"ceiling   with ledger / bare sends = {ceiling.rate_msg_s / bare.rate_msg_s:.2f}")
    ok = ok and ceiling.lost == 0 and ceiling.duplicated == 0
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (ru_maxrss, server included) = {peak_mib:.0f} MiB")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

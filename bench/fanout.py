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
The subscribers (``targets``): a tenth are channels (the bot an admin with "Post messages"),
a tenth forum topics (five per forum group, each its own subscriber, sent with
message_thread_id), a tenth groups, the rest private chats; each gets one ~2 KB HTML
message. The server knows the channels and topics and refuses what Telegram would refuse;
a message that reached another chat or topic than its own counts as misrouted.

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
from bot.delivery.target import Target, as_target
from tests.support.botapi import BotApiServer

KEY_PATTERN = re.compile(r"\[k=([^\]]+)\]")
CHANNEL_IDS = -1_001_000_000_000  # channel n is CHANNEL_IDS - n
FORUM_IDS = -1_000_500_000_000  # forum group k is FORUM_IDS - k (above every channel id)
FORUM_TOPICS = 5  # topics per forum (a group may burst 20 messages before its per-minute limit)
FIRST_THREAD = 100
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


def targets(count: int) -> list[Target]:
    """Subscribers 1..count: every 10th a channel, every 10th (from the 5th) a topic of a
    forum group (``FORUM_TOPICS`` per forum), every 10th (from the 3rd) a group, the rest
    private chats."""
    found = []
    for n in range(1, count + 1):
        if n % 10 == 0:
            found.append(Target(CHANNEL_IDS - n))
        elif n % 10 == 5:
            k = n // 10
            found.append(Target(FORUM_IDS - k // FORUM_TOPICS, FIRST_THREAD + k % FORUM_TOPICS))
        elif n % 10 == 3:
            found.append(Target(-n))
        else:
            found.append(Target(n))
    return found


def register(server: BotApiServer, subscribers: Sequence[Target]) -> None:
    """Tell the server the channels (the bot may post) and the forums with their topics."""
    for target in subscribers:
        if target.is_topic:
            if server.world.get(target.chat_id) is None:
                server.world.add_group(target.chat_id, f"Forum {target.chat_id}", forum=True)
            server.world.open_topic(target.chat_id, target.thread_id, f"Topic {target.thread_id}")
        elif target.chat_id <= CHANNEL_IDS:
            server.world.add_channel(target.chat_id, f"Channel {target.chat_id}", creator=1)


def digest_batch(chats: Sequence[int | Target], batch_id: str, *, parts: int = 1) -> list[Outgoing]:
    """One digest per subscriber in ``parts`` messages of ~2 KB, three articles each; every
    text carries its key as ``[k=...]`` so the server's record can be checked."""
    messages = []
    for chat in chats:
        target = as_target(chat)
        for part in range(parts):
            key = f"digest:{target.key}:{batch_id}:{part}"
            articles = tuple(f"{batch_id}-a{part * 3 + i}" for i in range(3))
            body = "".join(_ITEM.format(n=a, m=i) for i, a in enumerate(articles))
            text = f"{body}[k={key}]"
            messages.append(
                Outgoing(key, target.chat_id, text, articles, "digest", target.thread_id)
            )
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
    misrouted: int = 0  # accepted in another chat or topic than the key's


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
    misrouted = 0
    for call in server.calls_to("sendMessage"):
        for key in (
            KEY_PATTERN.findall(str(call.params.get("text", ""))) if call.status == 200 else ()
        ):
            where = Target(int(call.chat_id or 0), int(call.params.get("message_thread_id") or 0))
            misrouted += where.key != key.split(":")[1]
    delivered, duplicated = len(seen), len(seen) - len(set(seen))
    return Tally(delivered, len(expected - set(seen)), duplicated, rate, misrouted)


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
            await bot.send_message(
                message.chat_id,
                message.text,
                parse_mode="HTML",
                message_thread_id=message.thread_id or None,
            )

    async with Bot(token, base_url=base_url, request=request) as bot:
        await asyncio.gather(*(work(bot) for _ in range(workers)))


def _run(label: str, messages: Sequence[Outgoing], settings: DeliverySettings | None) -> Tally:
    with BotApiServer() as server, tempfile.TemporaryDirectory() as tmp:
        register(server, sorted({m.target for m in messages}))
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
        f"duplicated={result.duplicated} misrouted={result.misrouted} "
        f"rate={result.rate_msg_s:.1f} msg/s "
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

    subscribers = targets(args.chats)
    messages = digest_batch(subscribers, "bench")
    kinds = {
        "private": sum(t.chat_id > 0 for t in subscribers),
        "groups": sum(CHANNEL_IDS < t.chat_id < 0 and not t.is_topic for t in subscribers),
        "channels": sum(t.chat_id <= CHANNEL_IDS for t in subscribers),
        "topics": sum(t.is_topic for t in subscribers),
    }
    print("targets " + " ".join(f"{kind}={n}" for kind, n in kinds.items()), flush=True)
    base = DeliverySettings(concurrency=args.concurrency, drain_timeout_s=60.0)
    ok = True
    if not args.skip_limited:
        limited = _run("limited", messages, replace(base, messages_per_s=args.rate))
        ratio = limited.rate_msg_s / args.rate
        print(f"limited   achieved/configured = {ratio:.3f} (wanted >= 0.95)", flush=True)
        ok = ok and ratio >= 0.95 and limited.lost == limited.duplicated == limited.misrouted == 0
    unlimited = replace(
        base, messages_per_s=args.ceiling_rate, group_messages_per_min=args.ceiling_rate * 60
    )
    ceiling = _run("ceiling", messages, unlimited)
    bare = _run("baseline", messages, None)
    print(f"ceiling   with ledger / bare sends = {ceiling.rate_msg_s / bare.rate_msg_s:.2f}")
    ok = ok and ceiling.lost == ceiling.duplicated == ceiling.misrouted == 0
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (ru_maxrss, server included) = {peak_mib:.0f} MiB")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

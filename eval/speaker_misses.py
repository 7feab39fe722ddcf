"""The key quotes whose speaker is missed, grouped by the news-English attribution convention
involved, on the PolNeAR sets (dev and train) the speaker-accuracy gate reads.

python -m eval.speaker_misses [--corpus ../shared/corpus] [--split dev,train] [--show 5]
                              [--class CLASS]

A miss is a key quote that matches a gold quote whose source names someone, where our speaker
shares no name word with that source (``metrics.score_quotes``); "none" when we credit no one.
Each miss gets one class, from the gold attribution (where its source and cue sit, what the
source looks like) and what we said, so a rule can be judged by the convention it serves
rather than by the page it fixes.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval import metrics
from eval.run import DEFAULT_CORPUS

_PRONOUNS = {"he", "she", "they", "i", "we", "it", "you", "him", "her", "them"}
_TITLES = re.compile(
    r"\b(?:president|senator|sen\.|rep\.|gov\.|governor|secretary|minister|chairman|"
    r"chairwoman|director|spokesman|spokeswoman|spokesperson|mayor|judge|adviser|advisor|"
    r"strategist|manager|chief|leader|candidate|nominee|ceo|founder|professor|analyst|"
    r"pollster|attorney|speaker|mr\.|mrs\.|ms\.|dr\.)\s+[A-Z]",
    re.I,
)
_PLACE_CUES = re.compile(
    r"\b(?:in|from|at|across|near|outside|inside)\s+(?:the\s+)?(?:[A-Z]\w+\s+)?$"
)


@dataclass(frozen=True)
class Miss:
    split: str
    doc: str
    cls: str
    ours: str | None
    gold: str
    quote: str
    context: str


def _gold_spans(row: dict[str, Any]) -> list[tuple[metrics.GoldQuote, dict[str, Any]]]:
    """The gold quotes of ``metrics.gold_quotes`` with the attribution each comes from."""
    out = []
    for q in row["quotes"]:
        if not q["has_quotation_marks"]:
            continue
        inside = [part for c in q["contents"] for part in metrics.quoted_parts(c["text"])]
        if not inside:
            continue
        source = " ".join(s["text"] for s in q["sources"])
        out.append((metrics.GoldQuote(" ".join(inside), source), q))
    return out


def _paragraph_of(text: str, i: int) -> int:
    return text.count("\n\n", 0, max(i, 0))


def _is_place(text: str, name: str) -> bool:
    """Whether the name we gave is written as a place ("in Iowa", "from the United States")
    and never as the subject of a speech verb ("Iowa said")."""
    last = re.escape(name.split()[-1])
    if re.search(rf"\b{last}\s+(?:\w+ly\s+)?(?:said|says|told|wrote|added)\b", text):
        return False
    for m in re.finditer(rf"\b{last}\b(?![’'])", text):
        if _PLACE_CUES.search(text[max(0, m.start() - 40) : m.start()]):
            return True
    return False


def classify(text: str, attribution: dict[str, Any], ours: str | None) -> str:
    """The convention a missed attribution falls under (the first that fits)."""
    sources = attribution["sources"]
    cues = attribution["cue"]
    contents = attribution["contents"]
    source = " ".join(s["text"] for s in sources)
    cue = " ".join(c["text"] for c in cues).lower()
    first_content = min(c["start"] for c in contents)
    last_content = max(c["end"] for c in contents)
    src_start = min((s["start"] for s in sources), default=first_content)
    paragraph_gap = _paragraph_of(text, src_start) - _paragraph_of(text, first_content)
    prefix = "none" if ours is None else "wrong"
    if ours is not None and ours.lower() in _PRONOUNS | {"the", "a"}:
        return f"{prefix}: pronoun left unresolved"
    if ours is not None and _is_place(text, ours):
        return f"{prefix}: a place taken as the speaker"
    if "according" in cue:
        return f"{prefix}: according to X"
    if paragraph_gap < 0:
        return f"{prefix}: speaker in an earlier paragraph"
    if paragraph_gap > 0:
        return f"{prefix}: speaker in a later paragraph"
    if not cues or re.fullmatch(r"\W*", cue):
        return f"{prefix}: colon or dash attribution"
    if "," in source or " who " in source:
        return f"{prefix}: appositive beside the name"
    if _TITLES.search(source):
        return f"{prefix}: title before the name"
    words = source.split()
    if words and words[0].lower() in {"the", "a", "an"}:
        return f"{prefix}: description or organisation"
    if src_start > last_content:
        return f"{prefix}: speaker after the quote"
    return f"{prefix}: speaker before the quote"


def misses(corpus: Path, split: str) -> tuple[list[Miss], metrics.QuoteTally]:
    from bot.article.extract import parse_text
    from bot.article.summary import summarize

    found: list[Miss] = []
    total = metrics.QuoteTally()
    path = corpus / "quotes" / f"polnear_{split}.jsonl"
    for line in path.open(encoding="utf-8"):
        row = json.loads(line)
        text = row["text"]
        golds = _gold_spans(row)
        predicted = [(q.text, q.speaker) for q in summarize(parse_text(text)).quotes]
        total.add(metrics.score_quotes(predicted, [g for g, _ in golds]))
        for quote, speaker, gold, attribution in _matched(predicted, golds):
            names = metrics.name_words(gold.source)
            if not names or names & metrics.name_words(speaker):
                continue
            start = min(c["start"] for c in attribution["contents"])
            end = max(c["end"] for c in attribution["contents"])
            sources = attribution["sources"]
            src = [s["start"] for s in sources] + [s["end"] for s in sources]
            lo, hi = min([start, *src]), max([end, *src])
            context = " ".join(text[max(0, lo - 120) : min(len(text), hi + 120)].split())
            cls = classify(text, attribution, speaker)
            found.append(Miss(split, row["id"], cls, speaker, gold.source, quote, context))
    return found, total


def _matched(
    predicted: list[tuple[str, str | None]],
    golds: list[tuple[metrics.GoldQuote, dict[str, Any]]],
) -> Iterable[tuple[str, str | None, metrics.GoldQuote, dict[str, Any]]]:
    """The one-to-one matching of ``metrics.score_quotes``: key golds only."""
    pairs = sorted(
        (
            (metrics.quote_overlap(p[0], g.text), pi, gi)
            for pi, p in enumerate(predicted)
            for gi, (g, _) in enumerate(golds)
        ),
        reverse=True,
    )
    used_p: set[int] = set()
    used_g: set[int] = set()
    for overlap, pi, gi in pairs:
        if overlap < 0.6 or pi in used_p or gi in used_g:
            continue
        used_p.add(pi)
        used_g.add(gi)
        if golds[gi][0].is_key:
            yield predicted[pi][0], predicted[pi][1], golds[gi][0], golds[gi][1]


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.speaker_misses", description=__doc__)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--split", default="dev,train")
    parser.add_argument("--show", type=int, default=3, help="examples printed per class")
    parser.add_argument("--class", dest="only", default="", help="print every miss of this class")
    args = parser.parse_args(list(argv) if argv is not None else None)
    by_class: dict[str, list[Miss]] = defaultdict(list)
    counts: dict[str, Counter[str]] = {}
    for split in args.split.split(","):
        found, tally = misses(args.corpus, split)
        print(
            f"{split}: speaker accuracy {tally.speaker_accuracy:.3f} "
            f"({tally.speaker_right}/{tally.speaker_scored}), misses {len(found)}"
        )
        counts[split] = Counter(m.cls for m in found)
        for m in found:
            by_class[m.cls].append(m)
    splits = list(counts)
    print(f"\n{'class':<52}" + "".join(f"{s:>7}" for s in splits))
    for cls in sorted(by_class, key=lambda c: -len(by_class[c])):
        print(f"{cls:<52}" + "".join(f"{counts[s][cls]:>7}" for s in splits))
    for cls in sorted(by_class, key=lambda c: -len(by_class[c])):
        if args.only and args.only not in cls:
            continue
        shown = by_class[cls] if args.only else by_class[cls][: args.show]
        print(f"\n== {cls}")
        for m in shown:
            print(f"  [{m.split}] {m.doc[:50]}\n    ours: {m.ours!r}  gold: {m.gold!r}")
            print(f"    quote: {m.quote[:100]!r}\n    text: {m.context[:400]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

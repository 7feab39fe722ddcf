"""Score newsbot on the dev corpus and compare with the anchors; ``--check`` fails below the floors.

python -m eval.run [--corpus ../shared/corpus]
                   [--only extraction,lead,rouge,quotes,snippets,multilingual,titles]
                   [--check] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from eval import metrics, multilingual
from eval.metrics import PageScore, QuoteTally

DEFAULT_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"

# name: (floor, anchor, what the anchor is)
FLOORS: dict[str, tuple[float, float, str]] = {
    "zyte F1": (0.96, 0.954, "trafilatura 2.3.1"),
    "zyte precision": (0.95, 0.936, "trafilatura 2.3.1"),
    "zyte recall": (0.0, 0.974, "trafilatura 2.3.1"),
    "lead accuracy v2": (0.95, 0.64, "trafilatura's first sentence"),
    "lead accuracy v1": (0.90, 0.64, "trafilatura's first sentence"),
    "ROUGE-1": (41.0, 41.0, "Lead-3"),
    "ROUGE-2": (17.5, 17.5, "Lead-3"),
    "ROUGE-L": (25.7, 25.7, "Lead-3"),
    "quote precision": (0.85, 0.70, "naive regex"),
    "quote recall": (0.85, 0.79, "naive regex"),
    "speaker accuracy": (0.93, 0.34, "naive regex"),
    "title accuracy": (0.70, 0.50, "trafilatura's metadata title"),
    "quote precision (train)": (0.85, 0.70, "naive regex"),
    "quote recall (train)": (0.85, 0.79, "naive regex"),
    "speaker accuracy (train)": (0.90, 0.34, "naive regex"),
    **multilingual.FLOORS,
}


# --- extraction and lead on Zyte pages --------------------------------------------------


def _zyte_page(job: tuple[str, str, str | None]) -> dict[str, Any]:
    import trafilatura

    from bot.article.extract import extract_html
    from bot.article.summary import summarize
    from bot.errors import NewsbotError

    page_path, truth, url = job
    html = Path(page_path).read_bytes()
    try:
        article = extract_html(html, url=url)
        ours = article.text
        lead = summarize(article, lead_sentences=1).lead
        our_lead = lead[0] if lead else ""
    except NewsbotError:
        ours, our_lead = "", ""
    plain = trafilatura.extract(html, url=url) or ""
    plain_first = next((s for s in metrics.reference_sentences(plain) if s.strip()), "")
    return {
        "ours": metrics.shingle_score(truth, ours),
        "plain": metrics.shingle_score(truth, plain),
        "our_lead": our_lead,
        "plain_lead": plain_first,
        "true_lead": metrics.true_lead(truth),
        "true_lead_v2": metrics.true_lead_v2(truth),
        "page": page_path,
    }


def eval_zyte(corpus: Path, pool: ProcessPoolExecutor) -> dict[str, float]:
    base = corpus / "extraction" / "zyte"
    rows = [json.loads(line) for line in (base / "truth.jsonl").open(encoding="utf-8")]
    jobs = [(str(base / r["page"]), r["articleBody"], r.get("url")) for r in rows]
    results = list(pool.map(_zyte_page, jobs, chunksize=4))
    f1, p, r = metrics.extraction_prf(x["ours"] for x in results)
    bf1, bp, br = metrics.extraction_prf(x["plain"] for x in results)
    with_lead = [x for x in results if x["true_lead"]]
    ours_ok = sum(metrics.lead_matches(x["our_lead"], x["true_lead"]) for x in with_lead)
    plain_ok = sum(metrics.lead_matches(x["plain_lead"], x["true_lead"]) for x in with_lead)
    with_v2 = [x for x in results if x["true_lead_v2"]]
    ours_v2 = sum(metrics.lead_matches_v2(x["our_lead"], x["true_lead_v2"]) for x in with_v2)
    plain_v2 = sum(metrics.lead_matches_v2(x["plain_lead"], x["true_lead_v2"]) for x in with_v2)
    if os.environ.get("EVAL_VERBOSE"):
        for x in with_v2:
            if not metrics.lead_matches_v2(x["our_lead"], x["true_lead_v2"]):
                print(
                    f"LEAD MISS {Path(x['page']).name}\n  ours: {x['our_lead'][:160]!r}\n"
                    f"  true: {x['true_lead_v2'][:160]!r}",
                    file=sys.stderr,
                )
        for x in sorted(results, key=lambda x: x["ours"].tp)[:15]:
            s: PageScore = x["ours"]
            print(
                f"EXTRACT {Path(x['page']).name} tp={s.tp:.2f} fp={s.fp:.2f} fn={s.fn:.2f}",
                file=sys.stderr,
            )
    return {
        "zyte F1": f1,
        "zyte precision": p,
        "zyte recall": r,
        "zyte F1 (trafilatura, this run)": bf1,
        "zyte precision (trafilatura, this run)": bp,
        "zyte recall (trafilatura, this run)": br,
        "lead accuracy v2": ours_v2 / len(with_v2),
        "lead accuracy v1": ours_ok / len(with_lead),
        "lead accuracy v2 (trafilatura first sentence, this run)": plain_v2 / len(with_v2),
        "lead accuracy v1 (trafilatura first sentence, this run)": plain_ok / len(with_lead),
    }


# --- ROUGE on REALSumm --------------------------------------------------------------------


def eval_rouge(corpus: Path) -> dict[str, float]:
    from rouge_score import rouge_scorer

    from bot.article.extract import parse_text
    from bot.article.summary import summarize

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    path = corpus / "summaries" / "realsumm_cnndm_100.jsonl"
    ours: dict[str, list[float]] = {"rouge1": [], "rouge2": [], "rougeL": []}
    lead3: dict[str, list[float]] = {"rouge1": [], "rouge2": [], "rougeL": []}
    for line in path.open(encoding="utf-8"):
        row = json.loads(line)
        summary = " ".join(summarize(parse_text(row["article"]), lead_sentences=3).lead)
        naive = " ".join(re.split(r"(?<= [.!?]) ", row["article"])[:3])
        for store, text in ((ours, summary), (lead3, naive)):
            scores = scorer.score(row["reference"], text)
            for key in store:
                store[key].append(scores[key].fmeasure * 100)

    def mean(values: list[float]) -> float:
        return sum(values) / len(values)

    return {
        "ROUGE-1": mean(ours["rouge1"]),
        "ROUGE-2": mean(ours["rouge2"]),
        "ROUGE-L": mean(ours["rougeL"]),
        "ROUGE-1 (naive Lead-3, this run)": mean(lead3["rouge1"]),
        "ROUGE-2 (naive Lead-3, this run)": mean(lead3["rouge2"]),
        "ROUGE-L (naive Lead-3, this run)": mean(lead3["rougeL"]),
    }


# --- quotes on PolNeAR --------------------------------------------------------------------

_NAIVE_QUOTE = re.compile(r"[\"“]([^\"“”]{3,}?)[\"”]")
_NAIVE_SPEAKER = re.compile(r"(?:said|says)\s+([A-Z]\w+(?:\s+[A-Z]\w+)*)")


def _naive_quotes(text: str) -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    for m in _NAIVE_QUOTE.finditer(text):
        after = _NAIVE_SPEAKER.match(text[m.end() :].lstrip(" ,"))
        found.append((m.group(1), after.group(1) if after else None))
    return found


def eval_quotes(corpus: Path, split: str = "dev") -> dict[str, float]:
    from bot.article.extract import parse_text
    from bot.article.summary import summarize

    ours, naive = QuoteTally(), QuoteTally()
    path = corpus / "quotes" / f"polnear_{split}.jsonl"
    verbose = bool(os.environ.get("EVAL_VERBOSE"))
    for line in path.open(encoding="utf-8"):
        row = json.loads(line)
        golds = metrics.gold_quotes(row)
        summary = summarize(parse_text(row["text"]))
        predicted = [(q.text, q.speaker) for q in summary.quotes]
        tally = metrics.score_quotes(predicted, golds)
        ours.add(tally)
        naive.add(metrics.score_quotes(_naive_quotes(row["text"]), golds))
        if verbose:
            _explain_quotes(row["id"], predicted, golds)
    return {
        "quote precision": ours.precision,
        "quote recall": ours.recall,
        "speaker accuracy": ours.speaker_accuracy,
        "quote precision (naive regex, this run)": naive.precision,
        "quote recall (naive regex, this run)": naive.recall,
        "speaker accuracy (naive regex, this run)": naive.speaker_accuracy,
    }


def _explain_quotes(
    doc_id: str, predicted: list[tuple[str, str | None]], golds: list[metrics.GoldQuote]
) -> None:
    for text, speaker in predicted:
        best = max(golds, key=lambda g: metrics.quote_overlap(text, g.text), default=None)
        ok = best is not None and metrics.quote_overlap(text, best.text) >= 0.6
        mark = "ok " if ok else "FP "
        names = metrics.name_words(best.source) if ok and best is not None else set()
        if names and not names & metrics.name_words(speaker):
            mark = "SPK"
        gold_src = best.source if ok and best else "-"
        print(f"{mark} {doc_id[:40]} [{speaker} | gold {gold_src}] {text[:90]!r}", file=sys.stderr)
    for g in golds:
        if g.is_key and not any(metrics.quote_overlap(t, g.text) >= 0.6 for t, _ in predicted):
            print(f"FN  {doc_id[:40]} [{g.source}] {g.text[:90]!r}", file=sys.stderr)


# --- trafilatura's with/without snippets --------------------------------------------------


def _snippet_page(job: tuple[str, str | None, list[str], list[str]]) -> tuple[int, ...]:
    import trafilatura

    from bot.article.extract import extract_html
    from bot.errors import NewsbotError

    path, url, with_, without = job
    html = Path(path).read_bytes()
    try:
        ours = extract_html(html, url=url).text
    except NewsbotError:
        ours = ""
    try:
        plain = trafilatura.extract(html, url=url) or ""
    except Exception:  # a crash counts as a full miss, as upstream scores it
        plain = ""
    counts: list[int] = []
    for text in (ours, plain):
        flat = " ".join(text.split())
        tp = sum(" ".join(s.split()) in flat for s in with_[:6])
        fp = sum(" ".join(s.split()) in flat for s in without[:6])
        counts += [tp, len(with_[:6]) - tp, fp, len(without[:6]) - fp]
    return tuple(counts)


def eval_snippets(corpus: Path, pool: ProcessPoolExecutor) -> dict[str, float]:
    base = corpus / "extraction" / "trafilatura-eval"
    jobs = []
    for line in (base / "annotations.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        if row.get("page") and (base / row["page"]).exists():
            jobs.append((str(base / row["page"]), row.get("url"), row["with"], row["without"]))
    totals = [0] * 8
    for counts in pool.map(_snippet_page, jobs, chunksize=4):
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
    out: dict[str, float] = {}
    for label, (tp, fn, fp, tn) in (("", totals[:4]), (" (trafilatura, this run)", totals[4:])):
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        out[f"snippets precision{label}"] = p
        out[f"snippets recall{label}"] = r
        out[f"snippets F1{label}"] = 2 * p * r / (p + r) if p + r else 0.0
        out[f"snippets accuracy{label}"] = (tp + tn) / (tp + fn + fp + tn)
    return out


# --- titles on newspaper4k's fixtures ------------------------------------------------------


def eval_titles(corpus: Path) -> dict[str, float]:
    """Share of pages whose title is the fixture's headline (same words, in order), ours and
    trafilatura's metadata title; only pages whose fixture gives a title count."""
    import trafilatura

    from bot.article.extract import extract_html
    from bot.errors import NewsbotError

    base = corpus / "extraction" / "newspaper4k-fixtures"
    ours = plain = total = 0
    for meta_path in sorted((base / "metadata").glob("*.json")):
        html_path = base / "html" / f"{meta_path.stem}.html"
        expected = json.loads(meta_path.read_text("utf-8"))
        if not html_path.exists() or not expected.get("title"):
            continue
        html = html_path.read_bytes()
        url = expected.get("url") or expected.get("canonical_link")
        want = metrics.words(expected["title"])
        try:
            got = extract_html(html, url=url).title or ""
        except NewsbotError:
            got = ""
        theirs = trafilatura.extract_metadata(html, default_url=url).title or ""
        total += 1
        ours += metrics.words(got) == want
        plain += metrics.words(theirs) == want
        if os.environ.get("EVAL_VERBOSE") and metrics.words(got) != want:
            print(f"TITLE {meta_path.stem}: {got!r} != {expected['title']!r}", file=sys.stderr)
    return {
        "title accuracy": ours / total if total else 0.0,
        "title accuracy (trafilatura metadata, this run)": plain / total if total else 0.0,
    }


# --- report ---------------------------------------------------------------------------------


def _report(results: dict[str, float], out: Callable[[str], None]) -> list[str]:
    failures: list[str] = []
    out(f"{'metric':<58} {'score':>7} {'floor':>7} {'anchor':>7}")
    for name, value in results.items():
        floor, anchor, what = FLOORS.get(name, (None, None, ""))
        flag = ""
        if floor is not None and value < floor:
            failures.append(f"{name} {value:.3f} < floor {floor}")
            flag = "  BELOW FLOOR"
        floor_s = f"{floor:7.3f}" if floor is not None else " " * 7
        anchor_s = f"{anchor:7.3f} ({what})" if anchor is not None else ""
        out(f"{name:<58} {value:7.3f} {floor_s} {anchor_s}{flag}")
    return failures


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.run", description=__doc__)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--only", default="extraction,rouge,quotes,snippets,multilingual,titles")
    parser.add_argument("--check", action="store_true", help="exit 1 below a floor")
    parser.add_argument("--json", type=Path, help="also write the scores to this file")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(list(argv) if argv is not None else None)
    parts = set(args.only.split(","))
    results: dict[str, float] = {}
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        if parts & {"extraction", "lead"}:
            results.update(eval_zyte(args.corpus, pool))
        if "rouge" in parts:
            results.update(eval_rouge(args.corpus))
        if "quotes" in parts:
            results.update(eval_quotes(args.corpus))
            train = eval_quotes(args.corpus, "train")
            results.update({f"{k} (train)": v for k, v in train.items() if "naive" not in k})
        if "snippets" in parts:
            results.update(eval_snippets(args.corpus, pool))
        if "titles" in parts:
            results.update(eval_titles(args.corpus))
        if "multilingual" in parts:
            scores, misses = multilingual.evaluate()
            results.update(scores)
            if os.environ.get("EVAL_VERBOSE"):
                print("\n".join(misses), file=sys.stderr)
    failures = _report(results, print)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    if args.check and failures:
        print("\nbelow the floors: " + "; ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

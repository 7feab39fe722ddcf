"""The language a page declares: taken when its text bears it out, overridden when not, and
a script only one language writes needs no model."""

from __future__ import annotations

import json
from pathlib import Path

import py3langid
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.article.extract import extract_html
from bot.article.languages import detect_language
from bot.article.scripts import language_code, script_language
from bot.article.summary import summarize

GERMAN = (
    "Die Bundesregierung hat am Mittwoch einen Entwurf für das neue Heizungsgesetz vorgelegt. "
    "Nach Angaben des Ministeriums sollen Eigentümer mehr Zeit für den Austausch alter "
    "Anlagen bekommen, und die Förderung wird für Familien mit kleinem Einkommen erhöht. "
    "Kritik kam von den Verbänden der Wohnungswirtschaft, die mit höheren Mieten rechnen."
)
ENGLISH = (
    "The city council voted on Tuesday to extend the night bus service to the northern "
    "suburbs, after a year in which the number of late-night passengers doubled. The mayor "
    "said the change would cost less than expected and would start in the spring."
)
KOREAN = (
    "서울시는 화요일 심야 버스 노선을 북부 지역까지 연장하기로 결정했다고 밝혔다. "
    "시장은 비용이 예상보다 적을 것이라고 말했다."
)
GREEK = "Το δημοτικό συμβούλιο αποφάσισε την Τρίτη να επεκτείνει τη νυχτερινή γραμμή λεωφορείων."
THAI = "สภาเมืองลงมติเมื่อวันอังคารให้ขยายบริการรถโดยสารกลางคืนไปยังชานเมืองทางเหนือ"
HEBREW = "מועצת העיר הצביעה ביום שלישי על הארכת קו האוטובוס הלילי לפרברים הצפוניים של העיר"
JAPANESE = (
    "市議会は火曜日、深夜バスの運行を北部の郊外まで延長することを決めた。"
    "市長は費用は予想より少ないと述べた。"
)
CHINESE = "市议会周二投票决定将夜间巴士服务延长至北部郊区，市长表示费用将低于预期。"

MULTILINGUAL = Path(__file__).resolve().parents[1] / "data" / "multilingual"


def _page(body: str, *, html_attrs: str = "", head: str = "") -> str:
    paragraphs = "".join(f"<p>{sentence.strip()}.</p>" for sentence in body.split(". ") if sentence)
    return (
        f"<!doctype html><html{html_attrs}><head><title>Heizungsgesetz</title>{head}</head>"
        f"<body><article><h1>Heizungsgesetz</h1>{paragraphs}</article></body></html>"
    )


def test_a_page_declaring_german_is_read_as_german() -> None:
    """lang="de" on a German page: the article is German, as the page says."""
    article = extract_html(_page(GERMAN, html_attrs=' lang="de-DE"'))
    assert article.language == "de"
    assert summarize(article).article.language == "de"


def test_a_template_saying_english_does_not_make_a_german_article_english() -> None:
    """A site-wide lang="en" template over a German story: the story's words win."""
    article = extract_html(_page(GERMAN, html_attrs=' lang="en"'))
    assert article.language == "en"
    assert summarize(article).article.language == "de"


@pytest.mark.parametrize(
    ("text", "code"),
    [(KOREAN, "ko"), (GREEK, "el"), (THAI, "th"), (HEBREW, "he"), (JAPANESE, "ja")],
)
def test_a_script_only_one_language_writes_overrides_a_wrong_declaration(
    text: str, code: str
) -> None:
    """lang="en" on a page written in Hangul, Greek, Thai, Hebrew or kana: the script says
    which language it is."""
    assert detect_language(text, declared="en") == code
    assert script_language(text) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (KOREAN, "ko"),
        (GREEK, "el"),
        (THAI, "th"),
        (HEBREW, "he"),
        (JAPANESE, "ja"),
        (CHINESE, "zh"),
    ],
)
def test_the_script_answers_as_the_model_would(text: str, code: str) -> None:
    """Where the script alone answers, it answers what the detector's model says."""
    assert script_language(text) == code == py3langid.classify(text)[0]


def test_the_script_of_every_marked_article_agrees_with_its_language() -> None:
    """On the hand-marked multilingual set, the script names a language only when it is the
    article's own (Japanese and Chinese here), never a wrong one."""
    rows = [
        json.loads(line)
        for path in sorted(MULTILINGUAL.glob("*.jsonl"))
        for line in path.open(encoding="utf-8")
        if line.strip()
    ]
    named = {row["id"]: script_language(row["text"][:600]) for row in rows}
    assert all(named[row["id"]] in (None, row["lang"]) for row in rows)
    assert {row["lang"] for row in rows if named[row["id"]]} == {"ja", "zh"}


@pytest.mark.parametrize(
    ("html_attrs", "head", "code"),
    [
        (' lang="pt-BR"', "", "pt"),
        (' xml:lang="de"', "", "de"),
        ("", '<meta property="og:locale" content="fr_FR">', "fr"),
        ("", '<meta http-equiv="Content-Language" content="es">', "es"),
        (' lang="x-default"', '<meta property="og:locale" content="de_DE">', "de"),
        ("", '<meta http-equiv="content-language" content="de, en">', None),
        ("", "", None),
    ],
)
def test_each_way_a_page_declares_its_language(
    html_attrs: str, head: str, code: str | None
) -> None:
    """<html lang>, xml:lang, og:locale and Content-Language, in that order; several
    languages or a non-language tag declare nothing."""
    assert extract_html(_page(GERMAN, html_attrs=html_attrs, head=head)).language == code


@pytest.mark.parametrize(
    ("tag", "code"),
    [("en-US", "en"), ("pt_BR", "pt"), ("DE", "de"), ("iw", "he"), ("und", None), ("", None)],
)
def test_language_tags_become_iso_639_1_codes(tag: str, code: str | None) -> None:
    assert language_code(tag) == code


def test_english_declared_and_written_is_english() -> None:
    assert detect_language(ENGLISH, declared="en") == "en"


@given(
    text=st.text(min_size=0, max_size=300) | st.sampled_from([GERMAN, ENGLISH, KOREAN, THAI]),
    declared=st.sampled_from(["en", "de", "ru", "ko", "ja", "zh", "id", "xx"]),
)
def test_a_declaration_is_either_borne_out_or_ignored(text: str, declared: str) -> None:
    """Declaring a language never yields a third one: the answer is the declared language
    or the one found without it."""
    assert detect_language(text, declared=declared) in (declared, detect_language(text))

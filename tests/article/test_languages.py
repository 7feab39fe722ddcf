"""Articles in other languages: language, sentences, quote marks, speakers and datelines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.article.extract import parse_text
from bot.article.languages import count_words, detect_language, strip_dateline
from bot.article.quotes import find_quotes
from bot.article.sentences import sentence_spans, split_sentences
from bot.article.summary import summarize

DATA = Path(__file__).resolve().parents[1] / "data" / "multilingual"
ROWS = [
    json.loads(line)
    for path in sorted(DATA.glob("*.jsonl"))
    for line in path.open(encoding="utf-8")
    if line.strip()
]


@pytest.mark.parametrize("row", ROWS, ids=[row["id"] for row in ROWS])
def test_language_of_each_marked_article_is_detected(row: dict[str, str]) -> None:
    """Every article of the multilingual set is recognised as its own language."""
    assert detect_language(row["text"]) == row["lang"]


def test_too_short_a_text_has_no_language() -> None:
    """A headline is too short to tell; no guess is better than a wrong one."""
    assert detect_language("Breaking news") is None
    assert detect_language("") is None


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("ur", "یہ پہلا جملہ ہے۔ کیا یہ دوسرا ہے؟ ہاں۔", 3),
        ("hi", "यह पहला वाक्य है। क्या यह दूसरा है? हाँ।", 3),
        ("ar", "قال الرئيس إنه سيعود. ثم غادر القاعة. هل هذا صحيح؟", 3),
        ("ja", "高見容疑者は「人生に嫌気がさした。誰でもよかった」と話した。次の文です。", 2),
        ("zh", "他说：“我们会赢。”然后离开了。第二句！", 3),
        ("de", "Der Verkehr ruhte am 1. Weihnachtstag. Zehn Züge standen still.", 2),
        ("fr", "« Nous allons gagner », a déclaré M. Dupont. Le président a dit non.", 2),
    ],
)
def test_sentences_end_at_each_scripts_own_marks(language: str, text: str, expected: int) -> None:
    """۔ । ؟ 。 end sentences; a quote's inner full stop, a German ordinal and "M." do not."""
    assert len(split_sentences(text, language)) == expected


def test_untagged_urdu_text_is_split_by_its_script() -> None:
    """Callers that do not know the language still get Urdu sentences."""
    assert split_sentences("پہلا جملہ یہاں ختم ہوتا ہے۔ دوسرا جملہ بھی۔") == [
        "پہلا جملہ یہاں ختم ہوتا ہے۔",
        "دوسرا جملہ بھی۔",
    ]


@given(st.text(alphabet="ab ۔؟।。「」\n.", max_size=60), st.sampled_from(["ur", "hi", "ja", None]))
def test_sentences_are_exact_ordered_slices_in_every_script(
    text: str, language: str | None
) -> None:
    """Whatever the script, sentences are slices of the text, in order, holding all of it."""
    spans = sentence_spans(text, language)
    assert all(a < b for a, b in spans)
    assert all(spans[i][1] <= spans[i + 1][0] for i in range(len(spans) - 1))
    assert "".join(text[a:b] for a, b in spans).replace(" ", "").replace("\n", "") == (
        text.replace(" ", "").replace("\n", "")
    )


def test_cjk_characters_count_as_words() -> None:
    """A Japanese sentence is long enough to be a lead though it has no spaces."""
    assert count_words("県が調査をしている。") == 9
    assert count_words("Bridge reopens today") == 3


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        (
            "Lyon (Frankreich), 29.02.2012 – Bei einer Razzia wurden 25 Hacker festgenommen.",
            "Bei einer Razzia wurden 25 Hacker festgenommen.",
        ),
        (
            "MADRID, 12 mar (EFE).- El Gobierno ha aprobado hoy la ley.",
            "El Gobierno ha aprobado hoy la ley.",
        ),
        (
            "VOA.- El Departamento de Estado manifestó preocupación por la violencia.",
            "El Departamento de Estado manifestó preocupación por la violencia.",
        ),
        (
            "LA PAZ.- El Gobierno anunció hoy nuevas medidas.",
            "El Gobierno anunció hoy nuevas medidas.",
        ),
        ("Ya.- no es una fecha.", "Ya.- no es una fecha."),
        (
            "نیویارک — امریكی صدر براک اوباما نے بدھ كو خطاب كیا۔",
            "امریكی صدر براک اوباما نے بدھ كو خطاب كیا۔",
        ),
        (
            "کراچی (نامہ نگار)شہر میں آج دن بھر بارش ہوتی رہی۔",
            "شہر میں آج دن بھر بارش ہوتی رہی۔",
        ),
        ("اسلام آباد: حکومت نے نئے بجٹ کا اعلان کر دیا۔", "حکومت نے نئے بجٹ کا اعلان کر دیا۔"),
        (
            "朝日新聞によると、7月5日夕方(UTC+9)に大阪市で火災があった。",
            "朝日新聞によると、7月5日夕方(UTC+9)に大阪市で火災があった。",
        ),
        (
            "Der Minister (SPD) sagte am Montag, alles sei gut.",
            "Der Minister (SPD) sagte am Montag, alles sei gut.",
        ),
        (
            "Bei der Wahl – die am Sonntag stattfand – gewann die SPD.",
            "Bei der Wahl – die am Sonntag stattfand – gewann die SPD.",
        ),
    ],
)
def test_datelines_in_other_languages_are_skipped_and_nothing_else(
    sentence: str, expected: str
) -> None:
    """A place with its country or agency and a dash goes; a subject with a party stays."""
    assert strip_dateline(sentence) == expected


def test_german_quote_stops_at_its_closing_mark_and_names_the_speaker() -> None:
    """„…“ closes at “ (an English opener), so the next sentence is not swallowed."""
    text = (
        "„Wir werden die Schuldenbremse einhalten“, sagte Christian Lindner am Montag in Berlin. "
        "Die Opposition kritisierte den Haushalt scharf."
    )
    quotes = find_quotes(text, language="de")
    assert [(q.text, q.speaker) for q in quotes] == [
        ("Wir werden die Schuldenbremse einhalten", "Christian Lindner")
    ]


@pytest.mark.parametrize(
    ("language", "text", "speaker"),
    [
        (
            "fr",
            "« Nous ne reculerons pas sur cette réforme », a déclaré Élisabeth Borne mardi.",
            "Élisabeth Borne",
        ),
        (
            "es",
            "«Vamos a aprobar el presupuesto este mes», dijo Pedro Sánchez en Madrid.",
            "Pedro Sánchez",
        ),
        (
            "ru",
            "«Мы не будем вводить новые налоги в этом году», — заявил Антон Силуанов.",
            "Антон Силуанов",
        ),
        (
            "ru",
            "«Мы не ставим точку в наших отношениях с театром», — сказал генеральный директор "
            "Большого театра Анатолий Иксанов.",
            "Анатолий Иксанов",
        ),
        (
            "es",
            "“No nos dijeron qué día va a ser el juicio, sé que será la semana que viene”, "
            "relató Yuliet Yero.",
            "Yuliet Yero",
        ),
        (
            "es",
            "“Estos días han sido bastante nostálgicos y frustrantes para todos”, dijo a la Voz "
            "de América, Jonathan López, amigo de Solís.",
            "Jonathan López",
        ),
        (
            "es",
            "“Los están acusando por la parte militar para acabar con ellos”, apuntó Yuliet quien "
            "identificó al primer teniente José Ángel Beltrán como instructor.",
            "Yuliet",
        ),
        (
            "fr",
            "« Nous avons attendu trois heures devant la porte du tribunal », a raconté Marie "
            "Dupont.",
            "Marie Dupont",
        ),
        ("pt", "«Vamos cumprir todas as metas do governo», disse Lula em Brasília.", "Lula"),
        (
            "it",
            "«Non ci sono le condizioni per un accordo oggi», ha detto Giorgia Meloni.",
            "Giorgia Meloni",
        ),
        ("de", "Olaf Scholz sagte: „Wir stehen fest an der Seite der Ukraine.“", "Olaf Scholz"),
        (
            "ur",
            'وزیر اعظم شہباز شریف نے کہا کہ "ہم معیشت کو دوبارہ اپنے پاؤں پر کھڑا کریں گے"۔',
            "وزیر اعظم شہباز شریف",
        ),
        ("hi", 'प्रधानमंत्री नरेंद्र मोदी ने कहा कि "हम हर गांव तक बिजली पहुंचाएंगे"।', "प्रधानमंत्री नरेंद्र मोदी"),
        (
            "ar",
            'وقال وزير الخارجية أيمن الصفدي: "لن نقبل بأي تهجير للفلسطينيين من أرضهم".',
            "وزير الخارجية أيمن الصفدي",
        ),
        ("ja", "鳩山氏は記者会見で「国民の怒りが民主党への期待に結び付いた」と述べた。", "鳩山氏"),
        ("zh", "李强说：“中国经济长期向好的基本面没有改变。”", "李强"),
    ],
)
def test_attribution_patterns_by_language(language: str, text: str, speaker: str) -> None:
    """The news conventions of each language name the speaker of a key quote."""
    quotes = find_quotes(text, language=language)
    assert quotes
    assert quotes[0].speaker == speaker


@pytest.mark.parametrize(
    ("language", "text"),
    [
        (
            "es",
            "Namita Beggins, vocera del Departamento de Estado EE.UU. le dijo a la Voz de América: "
            '"nos preocupa mucho la violencia que hemos visto en la región".',
        ),
        (
            "fr",
            "Namita Beggins, porte-parole du département d'État, a déclaré à l'AFP : « nous "
            "sommes très préoccupés par la violence dans la région ».",
        ),
    ],
)
def test_whom_a_quote_was_said_to_is_not_its_speaker(language: str, text: str) -> None:
    """ "dijo a la VOA", "a déclaré à l'AFP": the outlet after "a"/"à" heard the quote; the
    speaker is the subject before the verb."""
    assert find_quotes(text, language=language)[0].speaker == "Namita Beggins"


def test_urdu_quote_typed_as_doubled_apostrophes_is_read_as_a_quote() -> None:
    """''…'' is how Urdu news typed on a Latin keyboard writes “…”: the words inside are the
    quote, without the marks, and the speaker before کہا ہے کہ is named."""
    text = "وزیر اعظم شہباز شریف نے کہا ہے کہ ''ہم معیشت کو دوبارہ اپنے پاؤں پر کھڑا کریں گے''۔"
    quotes = find_quotes(text, language="ur")
    assert [q.text for q in quotes] == ["ہم معیشت کو دوبارہ اپنے پاؤں پر کھڑا کریں گے"]
    assert quotes[0].speaker == "وزیر اعظم شہباز شریف"


def test_a_quote_paragraph_after_an_attributed_quote_keeps_its_speaker() -> None:
    """News runs a speaker's words on into the next paragraph as a quote of its own, with no
    new attribution: it is the same speaker's."""
    text = (
        "«Vamos a aprobar el presupuesto este mes», dijo Pedro Sánchez en Madrid.\n\n"
        "«Nadie va a impedir que este Gobierno cumpla con lo que prometió a los ciudadanos».\n\n"
        "El Congreso vota el jueves."
    )
    quotes = find_quotes(text, language="es")
    assert [q.speaker for q in quotes] == ["Pedro Sánchez", "Pedro Sánchez"]


def test_a_clause_after_the_verb_is_not_a_speaker() -> None:
    """ "insistió en que «…»": the words after the verb open a clause; they name no one."""
    text = (
        "En referencia a los médicos cubanos insistió en que “son víctimas de dos opresiones y "
        "no los dejan salir a ninguna parte”."
    )
    assert all(q.speaker != "en que" for q in find_quotes(text, language="es"))


def test_arabic_verb_before_the_quote_names_its_speaker_over_a_verb_after() -> None:
    """وقال X إنه "…"، وأشار Y أن …: the clause after the quote is another speaker's."""
    text = (
        'وقال الأمير تشارلز إنه وزوجته "يشعران بالسعادة الغامرة لمولد أول حفيد لهما"، '
        "وأشار رئيس الوزراء البريطاني ديفيد كاميرون أن هذه لحظة مهمة."
    )
    assert find_quotes(text, language="ar")[0].speaker == "الأمير تشارلز"


def test_arabic_also_said_is_the_speaker_quoted_before() -> None:
    """وقال أيضا: "…" names no one; the speaker is the one quoted last."""
    text = (
        'وقال باتريسيو في تصريحات للموقع الرسمي: "لقد كانت فرحة كبيرة لجميع البرتغاليين".\n\n'
        'وقال أيضا: "كانت لحظة خاصة جدا بالنسبة له رؤية رونالدو يفوز بالكرة الذهبية".'
    )
    assert [q.speaker for q in find_quotes(text, language="ar")] == ["باتريسيو", "باتريسيو"]


def test_chinese_he_said_in_a_statement_is_the_person_named_before() -> None:
    """他在一份声明中说: 他 is the speaker, 在一份声明中 where; 他 is the last one named."""
    text = (
        "美国总统奥巴马在白宫对联合国的行动表示欢迎。他在一份声明中说,“今天,国际社会发出同一个"
        "声音,向平壤发出一个简单的信息。”"
    )
    assert find_quotes(text, language="zh")[0].speaker == "美国总统奥巴马"


def test_pronoun_speaker_is_the_person_named_before() -> None:
    """„…“, sagte er: "er" is the last person the article named."""
    text = (
        "Wikinews-Mitbegründer Erik Möller zeigte sich zuversichtlich. „Ich gehe davon aus, "
        "dass die Gemeinschaft Mittel und Wege finden wird“, sagte er."
    )
    assert find_quotes(text, language="de")[0].speaker == "Erik Möller"


def test_names_and_scare_quotes_are_not_key_quotes() -> None:
    """„Unmask“ (a code name) and 「めざましテレビ」 (a programme) are not quotes to show."""
    assert find_quotes("Die unter dem Codenamen „Unmask“ gelaufene Aktion endete.", "de") == []
    assert find_quotes("高島さんは番組「めざましテレビ」を降板する。", "ja") == []


def test_an_unclosed_quote_does_not_run_into_the_next_paragraph() -> None:
    """A quote left open at its paragraph's end stops there unless the next paragraph opens
    with the same mark."""
    text = "Er sagte: „Wir kommen morgen wieder und bleiben\n\nDie Polizei räumte den Platz."
    assert all("Polizei" not in q.text for q in find_quotes(text, language="de"))


@pytest.mark.parametrize("row", ROWS, ids=[row["id"] for row in ROWS])
def test_summary_of_a_marked_article_starts_with_its_true_first_sentence(
    row: dict[str, str],
) -> None:
    """The lead of each article in the set opens with the words of its true first sentence
    (its dateline skipped)."""
    summary = summarize(parse_text(row["text"]))
    assert summary.lead
    assert strip_dateline(row["lead"])[:20] in summary.lead[0]

"""Who said a quote, in languages other than English: the attribution beside it.

News in each language attributes a quote in a few fixed ways, and this module knows them:
a reporting verb and the speaker after the quote (German „…“, sagte Christian Lindner;
French « … », a déclaré Élisabeth Borne; Spanish «…», dijo; Russian «…», — заявил), or the
speaker and verb leading into it ("X sagte:", "Selon X, « … »"); a verb first in Arabic
(وقال X: "…"); the speaker marked by a postposition in Urdu and Hindi (X نے کہا کہ "…",
X ने कहा); the topic of the sentence and a quotative particle in Japanese (Xは「…」と述べた);
the speaker and 说/表示 in Chinese. A pronoun ("sagte er", "a-t-il", انہوں نے) stands for
the last person named before the quote.

(About 420 lines: one short section per family of languages; splitting them would scatter
the shared pronoun and name rules.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Attribution:
    """A speaker as written beside a quote and the reporting verb."""

    speaker: str
    verb: str


def _set(words: str) -> frozenset[str]:
    return frozenset(w.replace("_", " ") for w in words.split())


# Reporting verbs (and "according to" words) for languages that put the speaker after a verb;
# "_" joins the words of a compound form ("a_déclaré", "fügte_hinzu").
_VERBS: dict[str, frozenset[str]] = {
    "de": _set("""sagte sagt sagten sagen erklärte erklärt erklärten betonte betont meinte meint
        ergänzte ergänzt warnte warnt kritisierte kritisiert forderte fordert schrieb schreibt
        antwortete antwortet erwiderte versicherte berichtete berichtet bekräftigte unterstrich
        fügte_hinzu so laut zufolge sprach"""),
    "fr": _set("""a_déclaré déclare a_dit dit a_affirmé affirme a_ajouté ajoute a_expliqué
        explique a_estimé estime a_souligné souligne a_indiqué indique a_précisé précise
        a_assuré assure a_annoncé annonce a_confié confie a_lancé lance a_martelé martèle
        a_répondu répond a_insisté insiste a_prévenu prévient stipule prévoit a_reconnu reconnaît
        a_rappelé
        rappelle a_regretté regrette a_averti avertit a_jugé juge a_commenté selon d'après
        a_raconté raconte a_témoigné témoigne a_poursuivi poursuit a_conclu conclut
        a_dénoncé dénonce a_relevé relève a_plaidé plaide a_tranché tranche"""),
    "es": _set("""dijo dice afirmó afirma declaró declara señaló señala aseguró asegura explicó
        explica añadió añade agregó agrega indicó indica sostuvo sostiene manifestó expresó
        advirtió advierte subrayó destacó comentó respondió apuntó reconoció insistió
        relató relata contó cuenta narró recordó recuerda precisó enfatizó reiteró concluyó
        sentenció lamentó denunció criticó celebró aclaró detalló puntualizó exclamó resaltó
        remarcó
        ha_dicho ha_afirmado ha_declarado ha_señalado ha_asegurado ha_explicado según"""),
    "pt": _set("""disse diz afirmou afirma declarou declara explicou explica acrescentou
        ressaltou destacou garantiu contou disse_ainda segundo conforme"""),
    "it": _set("""ha_detto dice ha_dichiarato dichiara ha_affermato afferma ha_spiegato spiega
        ha_aggiunto aggiunge ha_sottolineato sottolinea ha_commentato ha_ribadito secondo"""),
    "ru": _set("""заявил заявила заявили сказал сказала сказали отметил отметила отметили
        сообщил сообщила сообщили подчеркнул подчеркнула пояснил пояснила добавил добавила
        заметил заметила признал признала рассказал рассказала считает заявляет говорит
        по_словам написал написала ответил ответила"""),
    "uk": _set("""заявив заявила сказав сказала зазначив зазначила повідомив повідомила додав
        додала наголосив наголосила за_словами"""),
    "pl": _set("""powiedział powiedziała stwierdził stwierdziła dodał dodała podkreślił
        podkreśliła zaznaczył zaznaczyła według"""),
    "nl": _set("zei zegt verklaarde aldus volgens voegde_toe"),
}
# Words that take the speaker after them even before the quote ("Laut X: „…“", "Selon X, « … »").
_ACCORDING = _set("""so laut zufolge selon d'après según segundo conforme secondo
    по_словам за_словами według volgens""")
_PRONOUNS = _set("""er sie il elle ils elles él ella ellos ele ela lui lei он она они він вона
    on ona oni hij zij""")
# Capitalised words that open a sentence but name nobody (articles, pronouns, conjunctions).
_NOT_NAMES = _set("""der die das ein eine einer dem den des er sie es wir ich dies diese auch
    aber und le la les un une il elle ce cette mais et el los las uno una él ella pero y o
    lo o os as um uma il lo gli una lui lei ma e он она они это но и а""")
_COMPLEMENTIZERS = _set("que qu' dass daß che что що że dat")
# After a reporting verb these introduce whom it was said to ("dijo a la VOA", "a déclaré à
# l'AFP", "ha detto al Corriere"), never the speaker, who is then the subject before the verb.
_ADDRESSEE = _set("a al à au aux")
_PARTICLES = _set("von van der den de du des la le del della di da dos das al el bin ibn y e")
# A relative pronoun ends the speaker's noun phrase: "apuntó Yuliet quien identificó al primer
# teniente José Ángel Beltrán" names Yuliet, not the officer in her relative clause.
_RELATIVES = _set("quien quienes que qui lequel laquelle который которая которые che cui")
# A phrase after the verb that opens with one of these is a clause, not a speaker ("insistió
# en que …", "a expliqué pour que …").
_NOT_SPEAKER_OPENERS = _set("en de a que qu' para por pour dans sur con sin sobre")

_TOKEN = re.compile(r"[^\W\d_][\w’'-]*|\d[\w.]*|[,.;:!?—–()]")
_SENTENCE_END = re.compile(r"[.!?…。！？۔।؟](?=[\s”»“」』\"']|$)")
_QUOTE_MARK = re.compile(r"[«»„“”‚‘’「」『』\"]")
# A full stop inside a dotted abbreviation in capitals ("EE.UU.", "U.S.", "O.N.U.") ends no
# sentence: Spanish and French news write country and body names so.
_DOTTED_CAPITALS = re.compile(r"\b(?:[A-ZÀ-Ý]{1,3}\.)+[A-ZÀ-Ý]{1,3}$")


def find_attribution(
    text: str, opening: int, closing: int, language: str | None
) -> Attribution | None:
    """The attribution of the quote whose opening mark is at ``opening`` and whose closing
    mark ends just before ``closing``; None when the sentence names no one."""
    after = _after(text, closing)
    before = _before(text, opening)
    if language in ("ur", "hi"):
        found = _postposition(before, after, language)
    elif language == "ar":
        found = _arabic(before, after)
    elif language == "ja":
        found = _japanese(text, opening, after)
    elif language == "zh":
        found = _chinese(before, after)
    else:
        verbs = _VERBS.get(language or "", frozenset())
        found = _verb_then_name(after, verbs) or _leading(before, verbs)
    if found is not None and found.speaker.lower() in _PRONOUNS | _CASELESS_PRONOUNS:
        person = _last_person(text[: max(opening, 0)], language)
        return Attribution(person, found.verb) if person else None
    return found


def is_attribution_clause(fragment: str, language: str | None) -> bool:
    """Whether ``fragment`` (the words between two quotes) is only an attribution."""
    return find_attribution(fragment, -1, 0, language) is not None


def _after(text: str, closing: int) -> str:
    """The rest of the sentence after a closing mark, up to its end or the next quote."""
    end = text.find("\n\n", closing)
    end = len(text) if end < 0 else end
    rest = text[closing:end]
    stop = _SENTENCE_END.search(rest)
    mark = re.search(r"[«„“「『\"]", rest)
    cut = min(m.start() for m in (stop, mark) if m is not None) if stop or mark else len(rest)
    return rest[:cut]


def _before(text: str, opening: int) -> str:
    """The sentence up to an opening mark, with the quotes inside it blanked."""
    if opening <= 0:
        return ""
    start = text.rfind("\n\n", 0, opening)
    head = text[start + 2 if start >= 0 else 0 : opening]
    ends = [
        m for m in _SENTENCE_END.finditer(head) if not _DOTTED_CAPITALS.search(head[: m.start()])
    ]
    if ends:
        head = head[ends[-1].end() :]
    return re.sub(r"[«„“「『\"][^«»„“”「」『』\"]*[»“”」』\"]", " ", head)


def _tokens(fragment: str) -> list[str]:
    return _TOKEN.findall(_QUOTE_MARK.sub(" ", fragment))


def _verb_at(tokens: list[str], i: int, verbs: frozenset[str]) -> int:
    """The number of tokens a reporting verb takes at ``i`` (0 if none)."""
    for size in (2, 1):
        words = [t.lower() for t in tokens[i : i + size]]
        if len(words) == size and " ".join(words) in verbs:
            return size
    word = tokens[i].lower() if i < len(tokens) else ""
    if re.fullmatch(r"\w+-t-(?:il|elle)|\w+-(?:il|elle)", word):
        return 1  # French inversion: "a-t-il déclaré", "dit-elle"
    return 0


def _verb_then_name(after: str, verbs: frozenset[str]) -> Attribution | None:
    """ ", sagte Christian Lindner." / ", a-t-il déclaré." / " — заявил он.\""""
    tokens = _tokens(after)
    while tokens and tokens[0] in {",", ";", ":", "—", "–", "("}:
        tokens.pop(0)
    size = _verb_at(tokens, 0, verbs)
    if not size:
        return None
    verb = " ".join(tokens[:size])
    inverted = re.search(r"-(?:t-)?(il|elle)$", tokens[0].lower())
    if inverted:
        return Attribution(inverted.group(1), verb)
    rest = tokens[size:]
    while rest and _verb_at(rest, 0, verbs):  # "a-t-il déclaré", "fügte hinzu"
        rest = rest[_verb_at(rest, 0, verbs) :]
    if rest and rest[0].lower() in _ADDRESSEE and "," in rest:
        # "«…», dijo a la Voz de América, Jonathan López": whom it was said to, then the
        # speaker after the comma.
        rest = rest[rest.index(",") + 1 :]
    return _noun_phrase(rest, verb)


def _leading(before: str, verbs: frozenset[str]) -> Attribution | None:
    """ "X sagte: „…“", "Selon X, « … »", "Ein Sprecher zu der Aktion: „…“"."""
    tokens = _tokens(before)
    if not tokens:
        return None
    for i in range(len(tokens) - 1, -1, -1):
        size = _verb_at(tokens, i, verbs)
        if not size:
            continue
        verb = " ".join(tokens[i : i + size])
        if verb.lower() in _ACCORDING:
            return _noun_phrase(tokens[i + size :], verb)
        name = _name_before(tokens[:i])
        if name:
            return Attribution(name, verb)
        rest = tokens[i + size :]
        if rest and rest[0].lower() in _ADDRESSEE:
            name = _first_name(tokens[:i])
            return Attribution(name, verb) if name else None
        if rest and rest[0].lower() in _COMPLEMENTIZERS and i:
            # "Le texte stipule que « … »": the subject is the phrase before the verb.
            return Attribution(" ".join(tokens[max(0, i - 4) : i]), verb)
        return _noun_phrase(rest, verb)
    if before.rstrip().endswith(":"):
        name = _first_name(tokens)
        return Attribution(name, ":") if name else None
    return None


def _noun_phrase(tokens: list[str], verb: str) -> Attribution | None:
    """The speaker after a verb: a name ("Élisabeth Borne"), a pronoun, or a description
    ("le ministre")."""
    phrase: list[str] = []
    for token in tokens[:8]:
        if token in {",", ".", ";", ":", "!", "?", "(", "—", "–"} or token.lower() in _RELATIVES:
            break
        phrase.append(token)
    if not phrase or phrase[0].lower() in _NOT_SPEAKER_OPENERS:
        return None
    if phrase[0].lower() in _PRONOUNS:
        return Attribution(phrase[0], verb)
    name = _full_name(phrase) or _first_name(phrase)
    return Attribution(name or " ".join(phrase[:4]), verb)


def _is_name_word(word: str) -> bool:
    return word[:1].isupper() and word.lower() not in _NOT_NAMES


def _first_name(tokens: list[str]) -> str:
    """The first run of capitalised words (with "von", "de" … inside it)."""
    run: list[str] = []
    for token in tokens:
        if _is_name_word(token) or (run and token.lower() in _PARTICLES):
            run.append(token)
        elif run:
            break
    while run and run[-1].lower() in _PARTICLES:
        run.pop()
    return " ".join(run)


def _full_name(tokens: list[str]) -> str:
    """The first run of two or more capitalised words: after a verb the role comes first and
    the person's full name closes it ("сказал генеральный директор Большого театра Анатолий
    Иксанов", "sagte der Vorsitzende der Grünen Omid Nouripour")."""
    run: list[str] = []
    for token in [*tokens, ""]:
        if _is_name_word(token) or (run and token.lower() in _PARTICLES):
            run.append(token)
            continue
        while run and run[-1].lower() in _PARTICLES:
            run.pop()
        if len(run) >= 2:
            return " ".join(run)
        run = []
    return ""


def _name_before(tokens: list[str]) -> str:
    """The run of capitalised words that ends right before a verb ("Christian Lindner sagte")."""
    run: list[str] = []
    for token in reversed(tokens[-6:]):
        if _is_name_word(token) or (run and token.lower() in _PARTICLES):
            run.insert(0, token)
        else:
            break
    if not run and tokens and tokens[-1].lower() in _PRONOUNS:
        return tokens[-1]
    return " ".join(run)


_CAPITAL = r"[A-ZÀ-ÖØ-ÞĀ-Ž\u0400-\u042f][\w’'-]+"
_PERSON = re.compile(rf"(?:{_CAPITAL}\s+){{1,3}}{_CAPITAL}")
_ROLE_CHARS = 12


def _last_person(head: str, language: str | None) -> str:
    """The last person named before a quote: two or more capitalised words, or the subject
    of the last "X نے" / "X ने" / "Xは" in scripts without capitals."""
    head = head[-1500:]
    if language == "zh":
        # The subject of the last reporting verb that is a name, not 他 or a phrase of place.
        subjects = [_zh_speaker(m.group(1)) for m in _ZH_SUBJECT.finditer(head)]
        subjects = [x for x in subjects if x not in _CASELESS_PRONOUNS and x[0] not in "在于於"]
        if subjects:
            return subjects[-1]
    if language == "ar":
        speakers = [m.group(1).strip() for m in _ARABIC_BEFORE.finditer(head)]
        speakers = [s for s in speakers if s not in _ARABIC_ADVERBS | _CASELESS_PRONOUNS]
        return speakers[-1] if speakers else ""
    if language in ("ur", "hi"):
        subjects = _SUBJECT[language].findall(head)
        names = [s for s in (_clean_caseless(x) for x in subjects) if s not in _CASELESS_PRONOUNS]
        return names[-1] if names else ""
    runs = [r.split() for r in _PERSON.findall(head)]
    runs = [r for r in runs if r[0].lower() not in _NOT_NAMES]
    if not runs:
        return ""
    run = runs[-1]
    # A role before the name ("Wikinews-Mitbegründer Erik Möller", "Finanzminister Evangelos
    # Venizelos"): a compound or a long noun opening a run of three or more words.
    while len(run) > 2 and ("-" in run[0] or len(run[0]) > _ROLE_CHARS):
        run = run[1:]
    return " ".join(run)


# --- Urdu and Hindi: the speaker before a postposition ------------------------------------

_SUBJECT = {
    "ur": re.compile(r"((?:[^\s،.۔:]+\s+){0,3}[^\s،.۔:]+)\s+(?:نے|کا\s+کہنا|کے\s+مطابق)\s"),
    "hi": re.compile(r"((?:[^\s,।:]+\s+){0,3}[^\s,।:]+)\s+(?:ने|का\s+कहना|के\s+मुताबिक|के\s+अनुसार)\s"),
}
_SPEECH = {
    "ur": re.compile(r"کہا|کہی|بتایا|کہنا|قرار|لکھا|اعلان|دعوی|مطالبہ|جواب|تصدیق|زور"),
    "hi": re.compile(r"कहा|कही|बताया|कहना|लिखा|दावा|आरोप|घोषणा|जवाब"),
}
_CASELESS_PRONOUNS = _set("""انہوں اُنہوں انھوں اس ان وہ میں ہم उन्होंने उसने वह मैंने हमने
    彼 彼女 他 她 هو هي""")
_LEADING_CONJUNCTIONS = _set("اور جبکہ تاہم جب کہ بعد میں और लेकिन वहीं तो")


def _clean_caseless(phrase: str) -> str:
    words = [w.strip("'\"‘’“”") for w in phrase.split()]
    while words and words[0] in _LEADING_CONJUNCTIONS:
        words.pop(0)
    return " ".join(w for w in words if w)


def _postposition(before: str, after: str, language: str) -> Attribution | None:
    if not _SPEECH[language].search(before + " " + after):
        return None
    subjects = _SUBJECT[language].findall(before + " ")
    if not subjects:
        return None
    speaker = _clean_caseless(subjects[-1])
    return Attribution(speaker, "نے" if language == "ur" else "ने") if speaker else None


# --- Arabic: the verb first -----------------------------------------------------------------

_ARABIC_VERBS = """قال قالت يقول تقول أضاف أضافت أكد أكدت أعلن أعلنت صرح صرحت ذكر ذكرت أوضح
    أوضحت أشار أشارت تابع تابعت"""
_ARABIC_VERB = rf"(?:و|ف)?(?:{'|'.join(_ARABIC_VERBS.split())})"
# The speaker ends at a colon or comma, or at a whole word that opens what was said ("إن",
# "أن") or a place or time ("في", "خلال"): never inside a longer word ("ديفيد").
_ARABIC_BEFORE = re.compile(
    rf"{_ARABIC_VERB}\s+((?:[^\s،:.]+\s*){{1,6}}?)\s*(?:[:،]|\b(?:إن|إنه|أن|في|خلال)\b|لـ|$)"
)
_ARABIC_AFTER = re.compile(
    rf"^\W*{_ARABIC_VERB}\s+((?:[^\s،:.]+\s*){{1,6}}?)\s*(?:[:،.]|\b(?:إن|في|خلال)\b|$)"
)
# "وقال أيضا:" names no one: the speaker is the one the article quoted last.
_ARABIC_ADVERBS = _set("أيضا أيضاً كذلك")


def _arabic(before: str, after: str) -> Attribution | None:
    # Arabic puts the verb and its subject before what they say (وقال X: "…"); a verb after
    # the quote ("…"، قال X) counts only when none leads into it.
    for pattern, fragment in ((_ARABIC_BEFORE, before), (_ARABIC_AFTER, after)):
        matches = list(pattern.finditer(fragment))
        if matches:
            speaker = matches[-1].group(1).strip()
            if speaker in _ARABIC_ADVERBS:
                speaker = "هو"
            return Attribution(speaker, "قال") if speaker else None
    return None


# --- Japanese: the topic, the quote, and と + a verb of saying ------------------------------

_JA_QUOTATIVE = re.compile(r"^\s*と(?!「)|^\s*との")
_JA_TOPIC = re.compile(r"^(.*?[^でにとへ])(?:は|が)(?!ず)")
_JA_BRACKETS = re.compile(r"[(（][^()（）]*[)）]")
# A topic this long is a whole noun phrase ("…法廷の検察長セルヘ・ブランメルツ氏"): its head,
# after the last の, names the speaker.
_JA_LONG_TOPIC = 12


def _japanese(text: str, opening: int, after: str) -> Attribution | None:
    if opening < 0 or not _JA_QUOTATIVE.search(after):
        return None
    # The quote's paragraph and the one before: a paragraph that opens with a quote goes on
    # from the speaker of the last.
    start = text.rfind("\n\n", 0, opening)
    start = text.rfind("\n\n", 0, start) if start > 0 else start
    head = text[start + 2 if start >= 0 else 0 : opening]
    head = re.sub(r"「[^「」]*」|『[^『』]*』", "", head)
    sentences = re.split(r"[。！？]", head)
    for sentence in reversed(sentences[-3:]):
        for chunk in reversed(re.split(r"[、,]", sentence)):
            match = _JA_TOPIC.search(_JA_BRACKETS.sub("", chunk.strip()))
            if not match:
                continue
            topic = match.group(1)
            if len(topic) > _JA_LONG_TOPIC and "の" in topic:
                topic = topic.rsplit("の", 1)[1]
            if 0 < len(topic) <= 2 * _JA_LONG_TOPIC:
                return Attribution(topic, "と")
    return None


# --- Chinese: 说 / 表示 with the speaker before it -------------------------------------------

_ZH_VERB = r"(?:说|說|表示|指出|称|稱|强调|強調|认为|認為|透露|介绍|介紹|坦言|回应|回應|告诉|告訴)"
_ZH_AFTER = re.compile(rf"^\s*[，,]?\s*([^，,。：:；;“”「」\s]{{1,12}}?){_ZH_VERB}")
_ZH_BEFORE = re.compile(rf"([^，,。：:；;“”「」\s]{{1,12}}?){_ZH_VERB}[：:，,]?\s*$")
# A clause up to its reporting verb: role, name and adverbial ("美国总统奥巴马在白宫…表示").
_ZH_SUBJECT = re.compile(rf"([^，,。：:；;“”「」\s]{{1,20}}?){_ZH_VERB}")
# Between the speaker and 说 Chinese puts where, when and to whom it was said: "他在一份声明中
# 说", "奥巴马在白宫表示", "她对记者说"; the speaker is what comes before.
_ZH_ADVERBIAL = re.compile(r"(?<=.)(?:在|于|於|向|对|對|接受).*$")


def _zh_speaker(phrase: str) -> str:
    """The speaker in the words before 说: without a conjunction in front ("不过他"), the
    adverbial after it ("在一份声明中") or a modal ("他要强调")."""
    phrase = re.sub(
        r"^(?:不过|不過|但是|可是|同时|同時|此外|而|但|并|並|也|还|還|又|则|則)", "", phrase
    )
    phrase = _ZH_ADVERBIAL.sub("", phrase)
    return re.sub(r"(?<=.)[要会會将將也还還曾则則又都再就]+$", "", phrase)


def _chinese(before: str, after: str) -> Attribution | None:
    for pattern, fragment in ((_ZH_AFTER, after), (_ZH_BEFORE, before)):
        match = pattern.search(fragment)
        if match:
            speaker = _zh_speaker(match.group(1))
            return Attribution(speaker, "说") if speaker else None
    return None

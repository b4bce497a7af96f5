"""Text helpers: joining wrapped cell text, comparing texts, transliterating names."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

# A word broken by the cell's width keeps its hyphen at the end of the line
# ("дорожно-" / "транспортных"); a dash standing apart (" -") is punctuation.
_BROKEN_WORD = re.compile(r"\w-$")
_WORD = re.compile(r"[0-9a-zа-яё]+")
_WORD_ANY_CASE = re.compile(r"[0-9a-zA-Zа-яёА-ЯЁ]+")

# The flat document lost its one- and two-letter words and the common Russian
# function words (a stop-word list like NLTK's), so comparisons between texts
# skip them on both sides. "иили" is what that left of «и (или)».
_MIN_COMPARED_WORD = 3
_STOP_WORDS = frozenset(
    """
    без более больше был была были было быть вам вас ведь вот впрочем все всегда всего всех всю
    где даже два для другой его ему еще или иили как какая какой когда конечно кто куда лучше
    между мне много может можно мой моя надо над наконец нас него нее ней нельзя нет ним них
    ничего однако опять они она оно перед под после потом потому почти при про раз разве сам
    свою себе себя сейчас совсем так такой там тебя тем теперь тогда того тоже только том тот
    три тут уже хорошо хоть чего чем через что чтоб чтобы чуть эти этого этой этом этот эту
    """.split()
)

# Capitalised words that may open a line in the middle of a cell: the names
# the strategies keep repeating («… на территории Ленинградской области»).
PROPER_OPENERS = frozenset({"Ленинградской", "Ленинградская", "Российской", "Федерации", "РФ"})

_TRANSLIT = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "e",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "y",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
}


def join_pieces(pieces: Iterable[str]) -> str:
    """Join the wrapped lines (or words) of one cell into a single line of text."""
    text = ""
    for raw in pieces:
        piece = " ".join(raw.split())
        if not piece:
            continue
        if not text:
            text = piece
        elif _BROKEN_WORD.search(text) and piece[0].islower():
            text += piece
        else:
            text += " " + piece
    return text


def words(text: str) -> list[str]:
    """Lower-case words of a text, without punctuation, for comparisons.

    A hyphenated word counts as one ("сердечно-сосудистым"), as the flat
    layout, which lost its hyphens, prints it.
    """
    lowered = text.lower().replace("ё", "е")
    return _WORD.findall(re.sub(r"(?<=\w)-(?=\w)", "", lowered))


def key_words(text: str) -> list[str]:
    """The words that survive in both layouts: no short or function words.

    Two-letter abbreviations («РФ», «ИИ») are kept: both layouts print them.
    """
    joined = re.sub(r"(?<=\w)-(?=\w)", "", text.replace("ё", "е").replace("Ё", "Е"))
    kept = []
    for token in _WORD_ANY_CASE.findall(joined):
        word = token.lower()
        if len(word) >= _MIN_COMPARED_WORD and word not in _STOP_WORDS:
            kept.append(word)
        elif len(word) == 2 and token.isupper() and token.isalpha():
            kept.append(word)
    return kept


def same_word(left: str, right: str) -> bool:
    """Whether two key words are the same word as the two layouts print it.

    The flat layout lost the letter before a closing bracket or quote
    («субсидий)» → «субсиди»), so a word one letter short of the other counts.
    """
    if left == right:
        return True
    short, long_ = sorted((left, right), key=len)
    return len(long_) - len(short) == 1 and len(short) >= 3 and long_.startswith(short)


def same_words(left: Sequence[str], right: Sequence[str]) -> bool:
    """Whether two lists of key words are the same, word by word."""
    return len(left) == len(right) and all(
        same_word(a, b) for a, b in zip(left, right, strict=True)
    )


def same_text(left: str, right: str) -> bool:
    """Whether two texts say the same, ignoring punctuation, case and short words."""
    return same_words(key_words(left), key_words(right))


def word_prefix_length(
    pieces: Sequence[str], target: Sequence[str], overshoot: bool = False
) -> int | None:
    """How many leading pieces spell exactly ``target`` (as key words), if any do.

    With ``overshoot``, the last of those pieces may go on with more words.
    """
    if not target:
        return 0
    for count in range(1, len(pieces) + 1):
        # Joined, not word by word: a line may end in the first half of a word.
        joined = join_pieces(pieces[:count])
        if joined.endswith("-"):
            continue
        collected = key_words(joined)
        if same_words(collected, target):
            return count
        if overshoot and len(collected) > len(target):
            return count if same_words(collected[: len(target)], target) else None
        if len(collected) > len(target) or not same_words(collected, target[: len(collected)]):
            return None
    return None


def transliterate(text: str) -> str:
    """Latin transliteration of Russian text (lower case, ASCII)."""
    return "".join(_TRANSLIT.get(char, char) for char in text.lower())


def slugify(text: str) -> str:
    """A lower-case ASCII slug of a Russian text: «Комитет по культуре» → komitet-po-kulture."""
    latin = transliterate(text)
    return re.sub(r"[^a-z0-9]+", "-", latin).strip("-")

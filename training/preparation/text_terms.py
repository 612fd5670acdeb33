"""From one raw document to the terms its vector counts: the single path that preparation and
serving share (docs/corpus-preparation.md, "Reproducing a document's vector").

`TextSettings` holds every option that changes the terms (header stripping, cleaning, stop words,
phrases). The preparation writes it into the dataset's manifest (`text_settings`), and
`document_terms(text, settings)` applied to a raw document, then counted over the vocabulary,
gives exactly that document's row in the dataset. The preparation computes the same thing in bulk
(tokenizer.py per batch, phrases.py on the token spool); tests check that the two agree.

Pure Python (re, dataclasses), no numpy: it runs in any of the containers, as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import chain
from typing import Iterable

from training.preparation.stop_words import (
    ADDRESS_STOP_WORDS,
    CONTRACTION_STOP_WORDS,
    ENGLISH_STOP_WORDS,
    TOPIC_MODEL_STOP_WORDS,
)
from training.preparation.text_cleaning import clean_message

# 2: cleaning also drops program listings and tab-aligned columns and paths after a top-level
# directory, and protocol names are built-in stop words. A version's terms are its own: settings
# of another version are refused rather than read with other rules.
SETTINGS_VERSION = 2
PHRASE_JOINER = "-"  # never inside a single term (tokens split at hyphens), so a phrase cannot collide with one

# Without cleaning: runs of 2+ word characters (CountVectorizer's rule), as before version 1.
PLAIN_TOKEN = re.compile(r"\w\w+")
# With cleaning: word characters joined by the punctuation of addresses and contractions, so that
# "lwb@cs.utexas.edu", "ftp.uu.net:/pub/gif" or "don't" arrive whole and are judged once per
# distinct token (`token_terms`), not re-scanned per occurrence.
# Written as "(?:[.@'\u2019/:-]+\w+)*" it finds the same tokens, but the engine then enters a
# group repeat after every word. Here the rest of a joined token is an alternation whose first
# branch is a single character class (scanned inside C, then backed off to the last word
# character) and whose second is empty: after a plain word, one failed character test. On 20
# Newsgroups: the same tokens, 0.20 s over `\w\w+` where that pattern took 0.33 s
# (bench/cleaning_cost.py).
JOINED_TOKEN = re.compile(r"(?:\w\w+|\w(?=[.@'\u2019/:-]\w))(?:[.@'\u2019/:-][\w.@'\u2019/:-]*\w|)")
_PIECE_SEPARATOR = re.compile(r"[.@/:-]+")
# A token's pieces of 2+ characters, found inside C: the runs between its hyphens (a token joined
# by hyphens only), or between any of its joiners (one without an apostrophe).
_HYPHEN_PIECES = re.compile(r"[^-]{2,}").findall
_PIECES = re.compile(r"[^.@/:-]{2,}").findall
# Generic top-level domains: a dotted name ending in one is a host name ("cs.cmu.edu").
_GENERIC_DOMAINS = frozenset("com edu org net gov mil int arpa bitnet uucp".split())
_COUNTRY_DOMAIN = re.compile(r"[a-z]{2}")
_HOST_END = re.compile(r"[/:]")
# Top-level directories of Unix file trees and ftp archives: "pub/X11", "usr/lib", "dev/null" are
# paths even with one slash (one slash alone is no path: "and/or", "OS/2", "TCP/IP").
_DIRECTORY_ROOTS = frozenset("pub usr bin sbin lib etc dev tmp var home src mnt opt contrib incoming".split())
# A contraction's ending: its pieces ("don", "ll", "ve") are no words of their own.
_CONTRACTION = re.compile(r"(?:n't|'ll|'ve|'re|'m|'d)$")
# Lines that are no prose are dropped before tokenizing (`remove_listing_lines`). Each kind is
# found by a pattern that starts with a literal character or a small set of them, which the
# regular-expression engine scans for quickly; only the lines it finds are looked at further.
# 1. Numeric table rows (sports results, statistics), found from two spaces or a tab before a
#    number, kept unless most of their fields are numbers.
#    Each hint takes the rest of its line, so a line is looked at once.
_SPACES_TABLE_HINT = r"  [-+(]?\d[^\n]*"
_TAB_TABLE_HINT = r"\t[-+(]?\d[^\n]*"
# A number field: a whitespace-delimited field that is a number as a table writes it ("83", "-3",
# "(12)", ".500", "4-2-1", "12x"). Found with one findall per candidate line, inside C.
_NUMBER_FIELD = re.compile(r"(?<!\S)[-+(]?\d[\d.,:;%/+)x*-]*[a-z]?(?!\S)", re.IGNORECASE)
TABLE_MIN_NUMBERS = 3
# 2. Program listings: a statement of C and its kin, ending (before a /* */ or // comment) in a ";"
#    after a call "name(...)", an index "]" or an assignment "= ...", found from the ";" at the end;
#    a line ending in "{" or "}"; an assembly instruction, a tab then "mnemonic operand,operand"
#    ("\tMOV\tAL,CS:[SI]"); a ";" comment in a column of its own, after two spaces or a tab
#    (assembly, Lisp: "DB   01001101B   ;01001101"; a smiley ";-)" or ";)" is no comment).
_LINE_END = r"[ \t]*(?:/\*[^\n]*\*/[ \t]*|//[^\n]*)?$"
_STATEMENT_END = re.compile(r";" + _LINE_END, re.MULTILINE)
_STATEMENT = re.compile(r"\w\([^\n]*\)[ \t]*;|\][ \t]*;|=[^\n]*;")
# 3. Tab-aligned columns of words: a tab, then a short word that ends the line or another tab
#    follows: an assembler's columns ("\tPOP\tCX", "Ptr\tDW\tOFFSET Msg") or a table of words
#    ("127\tBUF\tAlexander_Mogilny").
# The kinds that start with a tab are one pattern, one scan of a document (no match crosses a line
# end, so the lines found are those each kind finds alone).
_TAB_PROGRAM_LINES = (
    r"\t[a-z]{2,7}[ \t]+[a-z\[][^\s,;]*,[ \t]?[^\s,;]+",  # an instruction
    r"\t;[ \t]*[\w;]",  # a comment column
    r"\t[a-z]{2,7}(?:\t[^\n]*)?$",  # columns of words
)
# (a string every match holds, the pattern): any line the pattern finds is program text.
_PROGRAM_LINES = (
    ("{", re.compile(r"\{" + _LINE_END, re.MULTILINE)),
    ("}", re.compile(r"\}" + _LINE_END, re.MULTILINE)),
    ("\t", re.compile("|".join(_TAB_PROGRAM_LINES), re.IGNORECASE | re.MULTILINE)),
)
# A ";" comment column after two spaces. Two spaces also start a table row's hint: one scan of a
# document finds both (`_TWO_SPACES`); as a hint takes the rest of its line, a comment column after
# it is looked for in the line (`_table_row_or_comment_column`), so the lines found are those the
# two patterns find alone. The scan for two spaces is the costliest of all (spaces are everywhere).
_COMMENT_COLUMN = r"  ;[ \t]*[\w;]"
_TWO_SPACES = re.compile(f"{_SPACES_TABLE_HINT}|{_COMMENT_COLUMN}")
_COMMENT_COLUMN_IN = re.compile(_COMMENT_COLUMN).search
# Distinct tokens whose terms a process keeps (a few MB): past that the cache starts again.
TERM_CACHE_SIZE = 1 << 18


_BUILT_IN_STOP_WORDS = ENGLISH_STOP_WORDS | CONTRACTION_STOP_WORDS | ADDRESS_STOP_WORDS | TOPIC_MODEL_STOP_WORDS


@dataclass(frozen=True)
class TextSettings:
    """Everything that decides which terms a raw document yields; stored with the dataset."""

    strip_headers: bool = False
    clean_text: bool = True
    default_stop_words: bool = True
    stop_words: tuple = ()  # the user's own, lower-case, sorted
    phrases: tuple = ()  # (first, second) word pairs merged into one term, sorted

    @property
    def all_stop_words(self) -> frozenset:
        built_in = _BUILT_IN_STOP_WORDS if self.default_stop_words else frozenset()
        return built_in | frozenset(self.stop_words)

    def to_json(self) -> dict:
        return {
            "version": SETTINGS_VERSION,
            "strip_headers": self.strip_headers,
            "clean_text": self.clean_text,
            "default_stop_words": self.default_stop_words,
            "stop_words": list(self.stop_words),
            "phrases": [list(pair) for pair in self.phrases],
        }

    @classmethod
    def from_json(cls, data: dict) -> "TextSettings":
        if data.get("version") != SETTINGS_VERSION:
            raise ValueError(f"text settings version {data.get('version')!r} is not {SETTINGS_VERSION}")
        return cls(
            strip_headers=bool(data["strip_headers"]),
            clean_text=bool(data["clean_text"]),
            default_stop_words=bool(data["default_stop_words"]),
            stop_words=tuple(data["stop_words"]),
            phrases=tuple(tuple(pair) for pair in data["phrases"]),
        )


def phrase_term(first: str, second: str) -> str:
    """A phrase's vocabulary entry: one line of vocab.txt, readable ("los-angeles")."""
    return f"{first}{PHRASE_JOINER}{second}"


def _is_table_row(line: str) -> bool:
    numbers = len(_NUMBER_FIELD.findall(line))
    return numbers >= TABLE_MIN_NUMBERS and 2 * numbers >= len(line.split())


def _line_span(text: str, start: int, end: int) -> tuple:
    """(start, end) of the line holding text[start:end], without its newline."""
    line_end = text.find("\n", end)
    return text.rfind("\n", 0, start) + 1, len(text) if line_end < 0 else line_end


def _table_row_or_comment_column(line: str) -> bool:
    return _COMMENT_COLUMN_IN(line) is not None or _is_table_row(line)


# (a string every match holds, the pattern, a test of the line found or None: the pattern decides).
# A document without that string (most of them) costs one plain substring search, the fastest
# there is, instead of a pattern's scan ("  " is missing from a quarter of the posts).
_LISTING_LINES = (
    ("  ", _TWO_SPACES, _table_row_or_comment_column),
    ("\t", re.compile(_TAB_TABLE_HINT), _is_table_row),
    (";", _STATEMENT_END, _STATEMENT.search),
    *((literal, pattern, None) for literal, pattern in _PROGRAM_LINES),
)


def _listing_lines(text: str) -> list:
    """(start, end) of each table row and program line, in order."""
    lines = set()
    for literal, pattern, is_listing in _LISTING_LINES:
        if literal in text:
            for found in pattern.finditer(text):
                start, end = _line_span(text, found.start(), found.end())
                if is_listing is None or is_listing(text[start:end]):
                    lines.add((start, end))
    return sorted(lines)


def remove_listing_lines(text: str) -> str:
    """Drop the lines that are no prose: numeric table rows (a statistics table's team and player
    abbreviations, "DET", "BOS", otherwise make a topic of their own) and program listings (their
    identifiers, "buf", "char", "cs", "push", likewise)."""
    lines = _listing_lines(text)
    if not lines:
        return text
    kept, resume = [], 0
    for start, end in lines:
        kept.append(text[resume:start])
        resume = end
    kept.append(text[resume:])
    return "".join(kept)


def clean(text: str, settings: TextSettings) -> str:
    """The text whose words count: without message parts (strip_headers), tables and program
    listings (clean_text)."""
    if settings.strip_headers:
        text = clean_message(text)
    if settings.clean_text:
        text = remove_listing_lines(text)
    return text


def raw_tokens(text: str, settings: TextSettings) -> list:
    """The document's tokens before `token_terms`: lower-cased, in order."""
    pattern = JOINED_TOKEN if settings.clean_text else PLAIN_TOKEN
    return pattern.findall(text.lower())


def _is_address(token: str) -> bool:
    if "@" in token or "://" in token or token.count("/") >= 2:
        return True
    if "/" in token and token.partition("/")[0] in _DIRECTORY_ROOTS:
        return True
    if "." not in token:
        return False
    labels = _HOST_END.split(token, maxsplit=1)[0].split(".")
    last = labels[-1]
    return last in _GENERIC_DOMAINS or (len(labels) >= 3 and _COUNTRY_DOMAIN.fullmatch(last) is not None)


def token_terms(token: str) -> tuple:
    """The terms of one joined token (clean_text): none for an e-mail address, URL, host name or
    path; none for a contraction ("don't", "i'll"); a possessive without its "'s"; otherwise its
    pieces of 2+ characters ("well-known" -> well, known)."""
    if "." not in token and "/" not in token and "@" not in token and ":" not in token and "'" not in token \
            and "\u2019" not in token:
        # Joined by hyphens only ("well-known", "e-mail"; the most frequent kind): no address.
        return tuple(_HYPHEN_PIECES(token))
    if _is_address(token):
        return ()
    if "'" not in token and "\u2019" not in token:
        return tuple(_PIECES(token))
    terms = []
    for piece in _PIECE_SEPARATOR.split(token.replace("\u2019", "'")):
        if "'" in piece:
            if _CONTRACTION.search(piece):
                continue
            if piece.endswith("'s"):
                piece = piece[:-2]
            terms.extend(part for part in piece.split("'") if len(part) >= 2)
        elif len(piece) >= 2:
            terms.append(piece)
    return tuple(terms)


class _TermCache(dict):
    """token -> its terms (`token_terms`), judged once per distinct token: a token seen before is a
    plain dict lookup, inside C, so that only a process's new tokens cost Python work."""

    def __missing__(self, token: str) -> tuple:
        if len(self) >= TERM_CACHE_SIZE:
            self.clear()
        # A token of letters and digits only is its own term (isalnum is a quick test; any other
        # token, "x_y" included, takes the full judgement, which gives the same for it).
        terms = self[token] = (token,) if len(token) >= 2 and token.isalnum() else token_terms(token)
        return terms


_TERMS = _TermCache()


# token -> token_terms(token), from this process' cache (a bound method: no Python frame per hit).
cached_terms = _TERMS.__getitem__


def cleaned_terms(tokens: list) -> list:
    """The terms of a document's joined tokens (clean_text), in order."""
    return list(chain.from_iterable(map(cached_terms, tokens)))


def merge_phrases(terms: list, phrases: dict) -> list:
    """Greedy, left to right: a pair of neighbours that is a phrase becomes the phrase's term."""
    merged, position, count = [], 0, len(terms)
    while position < count:
        if position + 1 < count:
            phrase = phrases.get((terms[position], terms[position + 1]))
            if phrase is not None:
                merged.append(phrase)
                position += 2
                continue
        merged.append(terms[position])
        position += 1
    return merged


def phrase_lookup(settings: TextSettings) -> dict:
    return {(first, second): phrase_term(first, second) for first, second in settings.phrases}


def document_terms(text: str, settings: TextSettings, phrases: dict | None = None) -> list:
    """Every term of one raw document, in order (stop words included: the vocabulary leaves them
    out). `phrases` is `phrase_lookup(settings)`, passed in when many documents share it."""
    tokens = raw_tokens(clean(text, settings), settings)
    if settings.clean_text:
        tokens = cleaned_terms(tokens)
    if settings.phrases:
        tokens = merge_phrases(tokens, phrase_lookup(settings) if phrases is None else phrases)
    return tokens


def term_counts(terms: Iterable, columns: dict) -> dict:
    """A document's vector as {column: count}, for a vocabulary given as {word: column}."""
    counts: dict = {}
    for term in terms:
        column = columns.get(term)
        if column is not None:
            counts[column] = counts.get(column, 0) + 1
    return counts

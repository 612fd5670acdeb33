"""Cleaner defaults, user stop words and phrases; and the contract with serving: every row of a
dataset is re-derived from its raw text by text_terms.document_terms and the manifest's settings."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import numpy as np
import pytest

from training.formats import dataset as layout
from training.preparation import prepare, text_terms, tokenizer
from training.preparation.phrases import merge_tokens
from training.preparation.text_terms import (
    TextSettings,
    document_terms,
    merge_phrases,
    phrase_lookup,
    term_counts,
)

CLEAN = TextSettings()
PLAIN = TextSettings(clean_text=False)


@pytest.mark.parametrize("text, terms", [
    ("mail lwb@cs.utexas.edu or Lance", ["mail", "or", "lance"]),
    ("see http://www.cs.cmu.edu/~ftp/pub/x11 now", ["see", "now"]),
    ("get it from ftp.uu.net:/pub/graphics today", ["get", "it", "from", "today"]),
    ("host uipc104.ericsson.se and cs.cmu.edu answer", ["host", "and", "answer"]),
    ("in /pub/gnu/emacs and/or elsewhere", ["in", "and", "or", "elsewhere"]),
    ("I don't think they'll say it isn't so", ["think", "say", "it", "so"]),
    ("John\u2019s car, the drivers' union", ["john", "car", "the", "drivers", "union"]),
    ("a well-known end.The x", ["well", "known", "end", "the"]),
    ("version 3.1 of e.g. U.S.A. rules", ["version", "of", "rules"]),
    ("cd pub/X11R5 or usr/lib, see dev/null; OS/2 and TCP/IP", ["cd", "or", "see", "os", "and", "tcp", "ip"]),
])
def test_cleaning_drops_addresses_and_contraction_fragments(text, terms):
    assert document_terms(text, CLEAN) == terms


def test_without_cleaning_the_tokens_are_countvectorizers():
    text = "I don't mail lwb@cs.utexas.edu"
    assert document_terms(text, PLAIN) == ["don", "mail", "lwb", "cs", "utexas", "edu"]


def test_numeric_table_rows_go_and_prose_with_numbers_stays():
    text = ("Scoring leaders:\n    Oates        BOS    83  45  97 142\n"
            "    Yzerman\tDET\t83\t58\t79\t137\nIn 1993 the Bruins won  3 of 4 games.\n")
    assert document_terms(text, CLEAN) == ["scoring", "leaders", "in", "1993", "the", "bruins", "won", "of", "games"]


@pytest.mark.parametrize("line, is_row", [
    ("    Oates        BOS    83  45  97 142", True),
    ("  1. Boston  (12)  4-2-1  .500  +3", True),
    ("In 1993 the Bruins won  3 of 4 games.", False),
    ("  83  45 and some words here too", False),
    ("  12x 7:30 55% 3/4", True),
    ("  83a45 97b 1-", False),
])
def test_a_table_row_is_mostly_number_fields(line, is_row):
    assert text_terms._is_table_row(line) is is_row
    fields = line.split()
    numbers = sum(1 for field in fields if re.fullmatch(r"[-+(]?\d[\d.,:;%/+)x*-]*[a-z]?", field, re.IGNORECASE))
    assert is_row is (numbers >= 3 and 2 * numbers >= len(fields))


def test_the_bulk_token_expansion_equals_the_one_document_terms():
    """tokenizer._expand_tokens (numpy, a batch's id stream) gives each document the terms that
    document_terms gives it one token at a time: none, one or several per token."""
    generator = random.Random(11)
    words = ["ab", "don't", "well-known", "a.b.c.d", "x@y.com", "e-mail", "one-two-three-four", "it's",
             "x_y", "q/r", "zz", "ftp.uu.net:/pub", "rock'n'roll", "a-b-c"]
    for _ in range(200):
        documents = [[generator.choice(words[: generator.randrange(1, len(words) + 1)]) for _ in range(generator.randrange(0, 12))]
                     for _ in range(generator.randrange(1, 8))]
        terms, expanded, new_lengths = tokenizer._expand_tokens(*tokenizer.id_stream(documents))
        expected = [[term for token in document for term in text_terms.token_terms(token)] for document in documents]
        assert new_lengths.tolist() == [len(document) for document in expected]
        assert [terms[term] for term in expanded.tolist()] == [term for document in expected for term in document]
        assert set(terms) == {term for document in expected for term in document}


def test_program_listings_go_and_prose_with_semicolons_stays():
    text = ("Here is my code:\n"
            "    char buf[BUFSIZ+1];\t/* input buffer */\n"
            "    while (fgets(buf, BUFSIZ, stream) != NULL) {\n"
            "\tfputs(buf, output);\n"
            "    count = count + 1;  // one more\n"
            "    }\n"
            "\tMOV\tAL,CS:[SI]\t; the next byte\n"
            "\tPOP\tCX\n"
            "DB   01001101B   ;01001101\n"
            "Nice one.  ;-)\n"
            "127\tBUF\tAlexander_Mogilny\n"
            "\tThe next\tline is prose.\n"
            "It failed; the compiler (gcc) said so;\n"
            "Guns\t(6,350 total attacks)\n")
    assert document_terms(text, CLEAN) == ["here", "is", "my", "code", "nice", "one", "the", "next", "line", "is",
                                           "prose", "it", "failed", "the", "compiler", "gcc", "said", "so", "guns",
                                           "350", "total", "attacks"]
    assert "buf" in document_terms(text, PLAIN)


def _random_strings(alphabet: list, count: int, seed: int) -> list:
    generator = random.Random(seed)
    return ["".join(generator.choice(alphabet) for _ in range(generator.randint(0, 16))) for _ in range(count)]


def test_the_joined_token_pattern_finds_what_its_plain_form_finds():
    # JOINED_TOKEN is written for speed; its plain form, a group repeat after each word, says what it means.
    plain_form = re.compile(r"(?:\w\w+|\w(?=[.@'\u2019/:-]\w))(?:[.@'\u2019/:-]+\w+)*")
    texts = ["lwb@cs.utexas.edu don't e-mail a.b.c end. x--y 'quoted' -a- a..b_c i\u2019m 3.14 ftp.uu.net:/pub/gif"]
    texts += _random_strings(list("ab1_\u00e9.@'\u2019/:- \n,;"), 5000, seed=3)
    for text in texts:
        assert text_terms.JOINED_TOKEN.findall(text) == plain_form.findall(text), text


def test_one_scan_for_the_tab_led_program_lines_finds_each_kinds_lines():
    flags = re.IGNORECASE | re.MULTILINE
    alone = [re.compile(pattern, flags) for pattern in text_terms._TAB_PROGRAM_LINES]
    together = dict(text_terms._PROGRAM_LINES)["\t"]
    for text in _random_strings(["\t", " ", ";", "a", "mov", "AL,", "x", "\n", "1", ",", "DB", "[si]"], 5000, seed=4):
        lines = {text_terms._line_span(text, *found.span()) for pattern in alone for found in pattern.finditer(text)}
        assert {text_terms._line_span(text, *found.span()) for found in together.finditer(text)} == lines, text


def test_one_scan_for_two_spaces_finds_the_table_rows_and_comment_columns_each_rule_finds():
    def lines_of(pattern: str, text: str, keep) -> set:
        found = (text_terms._line_span(text, *match.span()) for match in re.finditer(pattern, text))
        return {(start, end) for start, end in found if keep(text[start:end])}

    alphabet = [" ", "  ", ";", ";-)", "a", "DB", "12", "-3", "(4)", ".5", "x", "\n", "\t", ","]
    texts = ["Gretzky  LA  10  20  30  ;no\nDB   01001101B   ;01001101\nNice one.  ;-)\n  3 ;x  ;y"]
    for text in texts + _random_strings(alphabet, 5000, seed=5):
        alone = lines_of(text_terms._SPACES_TABLE_HINT, text, text_terms._is_table_row) | lines_of(
            text_terms._COMMENT_COLUMN, text, lambda line: True)
        together = lines_of(text_terms._TWO_SPACES.pattern, text, text_terms._table_row_or_comment_column)
        assert together == alone, text


def test_settings_of_another_version_are_refused_not_read_with_these_rules():
    stored = CLEAN.to_json()
    assert TextSettings.from_json(stored) == CLEAN
    with pytest.raises(ValueError, match="text settings version 1 is not 2"):
        TextSettings.from_json({**stored, "version": 1})


def test_protocol_names_are_built_in_stop_words_unless_the_list_is_replaced():
    assert {"ftp", "http", "www"} <= CLEAN.all_stop_words
    assert "ftp" not in TextSettings(default_stop_words=False, stop_words=("x",)).all_stop_words


def test_conversation_words_topic_models_leave_out_are_built_in_stop_words_unless_the_list_is_replaced(tmp_path):
    conversation = {"just", "know", "think", "said", "going", "like", "use", "need", "available"}
    assert conversation <= CLEAN.all_stop_words
    assert not conversation & TextSettings(default_stop_words=False).all_stop_words
    corpus = _corpus(tmp_path / "talk.jsonl", ["I just think the hard drive is going, I know it, said the user"] * 30)
    assert _prepare(corpus, tmp_path / "defaults", "--max-df", "1.0") == 0
    assert _vocabulary(tmp_path / "defaults") == ["drive", "hard", "user"]
    assert _prepare(corpus, tmp_path / "own", "--max-df", "1.0", "--no-default-stop-words", "--stop-words", "the,it,is,i") == 0
    assert conversation & set(_vocabulary(tmp_path / "own")) == {"just", "think", "going", "know", "said"}


def test_merging_phrases_is_greedy_left_to_right():
    phrases = {("new", "york"): "new-york", ("york", "city"): "york-city"}
    assert merge_phrases("new york city new york york city".split(), phrases) == ["new-york", "city", "new-york", "york-city"]


def test_spool_merge_equals_the_one_document_merge():
    """phrases.merge_tokens (numpy, a block of documents) and merge_phrases (one document) agree."""
    generator = random.Random(7)
    terms = 5
    phrases = sorted({(generator.randrange(terms), generator.randrange(terms)) for _ in range(6)})
    codes = np.array(sorted(first * terms + second for first, second in phrases), dtype=np.int64)
    documents = [[generator.randrange(terms) for _ in range(generator.randrange(0, 30))] for _ in range(200)]
    tokens = np.array([token for document in documents for token in document], dtype=np.uint32)
    lengths = np.array([len(document) for document in documents], dtype=np.int64)
    merged, new_lengths = merge_tokens(tokens, lengths, codes, terms)
    lookup = {(int(code) // terms, int(code) % terms): terms + index for index, code in enumerate(codes)}
    expected = [merge_phrases(document, lookup) for document in documents]
    assert new_lengths.tolist() == [len(document) for document in expected]
    assert merged.tolist() == [token for document in expected for token in document]


def _corpus(path: Path, documents: list) -> Path:
    path.write_text("".join(json.dumps({"id": f"d{number}", "label": "x", "text": text}) + "\n"
                            for number, text in enumerate(documents)), encoding="utf-8")
    return path


def _prepare(corpus: Path, output: Path, *options: str) -> int:
    return prepare.main(["--input", str(corpus), "--output", str(output), "--workers", "1", "--min-df", "1",
                         "--min-tokens", "1", "--train-shards", "1", *options])


def _vocabulary(output: Path) -> list:
    return layout.load_vocabulary(output)


NEWS = [
    "The hard drive failed, I'll replace the hard drive and the floppy drive. Mail me at joe@host.example.com",
    "My hard drive is a SCSI drive; the controller card was cheap. Don't buy it at www.shop.com",
    "Los Angeles beat Detroit; the Kings won in Los Angeles. They didn't lose.",
    "In Los Angeles the weather is warm, the drive to the beach is short.",
    "A hard drive and a controller: the card needs a driver from ftp.vendor.com:/pub/drivers",
    "Detroit and Los Angeles play again, the Kings' goalie is hard to beat.",
] * 5


@pytest.fixture
def news(tmp_path) -> Path:
    return _corpus(tmp_path / "news.jsonl", NEWS)


def test_default_vocabulary_has_no_debris(news, tmp_path):
    assert _prepare(news, tmp_path / "clean") == 0
    assert _prepare(news, tmp_path / "plain", "--no-clean-text") == 0
    debris = {"don", "didn", "ll", "com", "www", "pub", "ftp", "example", "host", "shop", "vendor"}
    assert debris & set(_vocabulary(tmp_path / "plain"))
    assert not debris & set(_vocabulary(tmp_path / "clean"))


def test_user_stop_words_add_to_the_built_in_list_or_replace_it(news, tmp_path):
    listed = tmp_path / "stop.txt"
    listed.write_text("# teams\nKings\n\ndetroit\n", encoding="utf-8")
    assert _prepare(news, tmp_path / "added", "--stop-words", "beach,weather", "card", "--stop-words-file", str(listed)) == 0
    vocabulary = set(_vocabulary(tmp_path / "added"))
    assert not {"beach", "weather", "card", "kings", "detroit", "the"} & vocabulary
    assert {"drive", "angeles"} <= vocabulary
    assert _prepare(news, tmp_path / "replaced", "--no-default-stop-words", "--stop-words", "drive") == 0
    vocabulary = set(_vocabulary(tmp_path / "replaced"))
    assert {"is", "and", "my"} <= vocabulary and "drive" not in vocabulary  # "the" is in every document: max_df
    settings = json.loads((tmp_path / "replaced" / "manifest.json").read_text())["text_settings"]
    assert (settings["default_stop_words"], settings["stop_words"]) == (False, ["drive"])


def test_phrases_become_single_readable_terms(news, tmp_path):
    assert _prepare(news, tmp_path / "phrases", "--phrases", "--phrase-min-count", "5", "--phrase-threshold", "0.3") == 0
    vocabulary = _vocabulary(tmp_path / "phrases")
    assert {"hard-drive", "los-angeles"} <= set(vocabulary)
    assert "los" not in vocabulary  # always part of the phrase, so never left on its own
    manifest = json.loads((tmp_path / "phrases" / "manifest.json").read_text())
    assert ["hard", "drive"] in manifest["text_settings"]["phrases"]
    # Stored in order, whatever ids the terms had inside the run.
    assert manifest["text_settings"]["phrases"] == sorted(manifest["text_settings"]["phrases"])
    assert manifest["files"]["auxiliary"] == ["auxiliary/vocab.txt"]
    assert sorted(path.name for path in (tmp_path / "phrases" / "auxiliary").iterdir()) == ["vocab.txt"]


@pytest.mark.parametrize("options", [
    [],
    ["--strip-headers"],
    ["--no-clean-text"],
    ["--stop-words", "kings", "--no-default-stop-words"],
    ["--phrases", "--phrase-min-count", "3", "--phrase-threshold", "0.2"],
    ["--phrases", "--phrase-min-count", "2", "--phrase-threshold", "0.1", "--no-clean-text", "--workers", "2"],
])
def test_every_row_is_re_derived_from_raw_text_and_the_stored_settings(tmp_path, options):
    """What the endpoint's preprocessing must do: raw text + manifest text_settings + vocab.txt
    -> text_terms.document_terms -> counts over the vocabulary = the document's row."""
    texts = NEWS + [f"From: a@b.edu\nSubject: x\n\nhard drive {number} in Los Angeles, don't\n-- \nsig" for number in range(12)]
    corpus = _corpus(tmp_path / "corpus.jsonl", texts)
    output = tmp_path / "dataset"
    assert _prepare(corpus, output, *options) == 0
    settings = TextSettings.from_json(json.loads((output / "manifest.json").read_text())["text_settings"])
    columns = {word: column for column, word in enumerate(_vocabulary(output))}
    matrix = layout.load_corpus_matrix(output)
    raw = {f"d{number}": text for number, text in enumerate(texts)}
    lookup = phrase_lookup(settings)
    documents = layout.load_documents(output)
    assert len(documents) == matrix.shape[0] > 0
    for row, document in enumerate(documents):
        expected = term_counts(document_terms(raw[document["id"]], settings, lookup), columns)
        stored = matrix.getrow(row)
        assert dict(zip(stored.indices.tolist(), stored.data.astype(int).tolist())) == expected, document["id"]


def test_an_unreadable_stop_word_file_names_the_option(news, tmp_path, capsys):
    assert _prepare(news, tmp_path / "out", "--stop-words-file", str(tmp_path / "missing.txt")) == 1
    assert f"--stop-words-file {tmp_path / 'missing.txt'}: cannot read the stop-word file" in capsys.readouterr().err
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00")
    assert _prepare(news, tmp_path / "out", "--stop-words-file", str(binary)) == 1
    assert "cannot read the stop-word file" in capsys.readouterr().err
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_a_stop_word_line_with_two_words_names_the_file_and_line(news, tmp_path, capsys):
    listed = tmp_path / "stop.txt"
    listed.write_text("fine\nnot fine\n", encoding="utf-8")
    assert _prepare(news, tmp_path / "out", "--stop-words-file", str(listed)) == 1
    assert f"--stop-words-file {listed}:2: 'not fine' is not one word" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "1.5", "-0.2", "high"])
def test_a_phrase_threshold_out_of_range_is_a_usage_error_naming_the_option(news, tmp_path, capsys, value):
    with pytest.raises(SystemExit) as raised:
        _prepare(news, tmp_path / "out", "--phrases", "--phrase-threshold", value)
    assert raised.value.code == 2
    assert "argument --phrase-threshold" in capsys.readouterr().err

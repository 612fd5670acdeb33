"""training.preparation.text_cleaning: what --strip-headers removes from e-mail and news messages, and keeps."""

from training.preparation.text_cleaning import (
    MAX_SIGNATURE_LINES,
    TITLE_LENGTH,
    clean_message,
    remove_encoded_lines,
    remove_header,
    remove_quoted_replies,
    remove_signature,
    title,
)


def test_header_block_is_removed_up_to_the_first_blank_line():
    assert remove_header("From: a@example.com\nSubject: hi\n  continued\n\nbody\n\nmore") == "body\n\nmore"


def test_text_that_does_not_start_with_a_header_field_is_kept():
    assert remove_header("Dear all: hello\n\nbody") == "Dear all: hello\n\nbody"


def test_header_without_a_body_is_kept_as_it_is():
    assert remove_header("Subject: only a header") == "Subject: only a header"


def test_quoted_lines_and_attributions_are_removed():
    text = "> quoted first\nIn article <1@x> bob@x (Bob) writes:\n>> deeper\n| boxed quote\nreply\nJane wrote:\n> more\nend"
    assert remove_quoted_replies(text) == "reply\nend"


def test_a_colon_line_that_is_not_an_attribution_is_kept():
    assert remove_quoted_replies("the rules:\n1. be kind\nhe writes code:\n") == "the rules:\n1. be kind\nhe writes code:\n"


def test_short_signature_after_a_separator_is_removed():
    assert remove_signature("body\n-- \nJane Doe\nAcme Corp\n") == "body\n"
    assert remove_signature("body\n-----\nJane\n") == "body\n"


def test_separator_far_from_the_end_is_a_section_break():
    text = "intro\n--\n" + "\n".join(f"line {number}" for number in range(MAX_SIGNATURE_LINES + 2))
    assert remove_signature(text) == text


def test_clean_message_handles_windows_line_endings():
    message = "From: a@example.com\r\nSubject: x\r\n\r\nbody words\r\n> quoted\r\n-- \r\nsig\r\n"
    assert clean_message(message) == "body words\n"


def test_encoded_attachment_lines_are_removed_and_prose_is_kept():
    uuencoded = "M1F%C92!T;R!F86-E(&EN(&$@<F]O;2!F=6QL(&]F(&UI<G)O<G,N(%1H92!L"
    base64 = "VGhpcyBpcyBub3QgcHJvc2UsIGl0IGlzIGFuIGF0dGFjaG1lbnQgZW5jb2RlZCBpbiBiYXNlNjQu"
    text = f"Here is the driver you asked for.\nbegin 644 driver.zip\n{uuencoded}\n{base64}\nend\nThanks."
    assert remove_encoded_lines(text).split("\n") == [
        "Here is the driver you asked for.", "begin 644 driver.zip", "", "", "end", "Thanks."]
    long_prose = "A long sentence with many words but spaces between them, as prose has, stays."
    assert remove_encoded_lines(long_prose) == long_prose


def test_title_is_the_subject_of_a_message():
    message = "From: a@b.org\r\nSubject:  Re: Orbital   mechanics\r\nLines: 3\r\n\r\nBody text\r\n"
    assert title(message) == "Re: Orbital mechanics"


def test_title_is_the_first_non_blank_line_without_a_subject():
    assert title("\n\n   The first line\nthe second") == "The first line"
    assert title("From: a@b.org\n\nNo subject here") == "From: a@b.org"
    assert title("   \n") == ""


def test_a_long_title_is_cut_with_an_ellipsis():
    cut = title("word " * 100)
    assert len(cut) == TITLE_LENGTH and cut.endswith("\u2026")

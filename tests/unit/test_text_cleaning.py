"""training.text_cleaning: what --strip-headers removes from e-mail and news messages, and keeps."""

from training.text_cleaning import (
    MAX_SIGNATURE_LINES,
    clean_message,
    remove_header,
    remove_quoted_replies,
    remove_signature,
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

"""Strip what e-mail and news messages carry besides their text: headers, quoted replies, signatures.

These parts repeat across messages (addresses, host names, the quoted text of other posts) and
would otherwise become topics of their own.
"""

from __future__ import annotations

import re

# A header block starts with a field such as "From: ..." and ends at the first blank line.
_HEADER_FIELD = re.compile(r"[A-Za-z][A-Za-z0-9-]*:")
# Quoted lines ("> ...", "| ...", "In article <...> ..."), and the attribution lines that end in
# "... writes:". Both patterns start with a literal character ("\n", ":"), which the regular
# expression engine scans for quickly, instead of trying a pattern at every line start.
_QUOTED_LINE = re.compile(r"\n(?:[>|]|In article\b)[^\n]*")
_COLON_AT_LINE_END = re.compile(r":[ \t]*$", re.MULTILINE)
_ATTRIBUTION_VERB = re.compile(r"\b(?:writes|wrote|says|said)\Z")
# "-- " is the standard signature separator; news posts also use a line of dashes.
_SIGNATURE_SEPARATOR = re.compile(r"^(?:-- ?|-{2,}[ \t]*)$", re.MULTILINE)
# A separator further from the end is more likely a break between sections than a signature.
MAX_SIGNATURE_LINES = 10
# Encoded attachments (uuencode, base64, hex dumps) are lines of 40+ characters without a space:
# their fragments ("b8f", "giz", "a86") would otherwise fill whole topics.
_ENCODED_LINE = re.compile(r"^\S{40,}[ \t]*$", re.MULTILINE)


# A document's title in the report: its Subject header, else its first line of text, this long at most.
TITLE_LENGTH = 100
_SUBJECT = re.compile(r"^Subject:[ \t]*(.*)$", re.MULTILINE | re.IGNORECASE)


def title(text: str) -> str:
    """What a reader recognises a document by: a message's subject, else its first non-blank line."""
    if _HEADER_FIELD.match(text):
        header = text.replace("\r\n", "\n").partition("\n\n")[0]
        subject = _SUBJECT.search(header)
        if subject and subject.group(1).strip():
            return _shortened(subject.group(1))
    for line in text.splitlines():
        if line.strip():
            return _shortened(line)
    return ""


def _shortened(line: str) -> str:
    line = " ".join(line.split())
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1].rstrip() + "\u2026"


def remove_header(text: str) -> str:
    if not _HEADER_FIELD.match(text):
        return text
    _, blank_line, body = text.partition("\n\n")
    return body if blank_line else text


def remove_quoted_replies(text: str) -> str:
    # The leading newline lets the first line match like the others.
    text = _QUOTED_LINE.sub("", "\n" + text)[1:]
    kept, resume = [], 0
    for colon in _COLON_AT_LINE_END.finditer(text):
        line_start = text.rfind("\n", 0, colon.start()) + 1
        if line_start >= resume and _ATTRIBUTION_VERB.search(text, line_start, colon.start()):
            kept.append(text[resume:line_start])
            resume = colon.end() + 1
    if not kept:
        return text
    kept.append(text[resume:])
    return "".join(kept)


def remove_signature(text: str) -> str:
    # Only the last lines can hold a signature short enough to remove.
    tail_start = len(text)
    for _ in range(MAX_SIGNATURE_LINES + 1):
        tail_start = text.rfind("\n", 0, tail_start)
        if tail_start < 0:
            break
    separators = list(_SIGNATURE_SEPARATOR.finditer(text, max(tail_start, 0)))
    return text[: separators[-1].start()] if separators else text


def remove_encoded_lines(text: str) -> str:
    return _ENCODED_LINE.sub("", text)


def clean_message(text: str) -> str:
    """The body of an e-mail or news message without header, quoted replies, signature and encoded data."""
    text = text.replace("\r\n", "\n")
    return remove_encoded_lines(remove_signature(remove_quoted_replies(remove_header(text))))

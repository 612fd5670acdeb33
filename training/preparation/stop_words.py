"""The built-in stop words, and reading a user's own list.

ENGLISH_STOP_WORDS is the Glasgow Information Retrieval Group's list as scikit-learn ships it (the
same as CountVectorizer(stop_words="english"), so a vocabulary made here matches the AWS 20
Newsgroups example's without importing scikit-learn at run time). CONTRACTION_STOP_WORDS adds what
that list lacks and informal text is full of: auxiliaries it misses (did, does) and contractions
typed without their apostrophe (dont, im). Contractions with an apostrophe never become terms
(text_terms.token_terms). ADDRESS_STOP_WORDS: protocol names, what is left of an address in prose.
TOPIC_MODEL_STOP_WORDS: the rest of the stop list topic models are usually given (MALLET's).
"""

from __future__ import annotations

import re

from training.preparation.errors import PrepareError

ENGLISH_STOP_WORDS = frozenset(
    """
a about above across after afterwards again against all almost alone along already also although
always am among amongst amoungst amount an and another any anyhow anyone anything anyway
anywhere are around as at back be became because become becomes becoming been before beforehand
behind being below beside besides between beyond bill both bottom but by call can cannot cant co
con could couldnt cry de describe detail do done down due during each eg eight either eleven
else elsewhere empty enough etc even ever every everyone everything everywhere except few
fifteen fifty fill find fire first five for former formerly forty found four from front full
further get give go had has hasnt have he hence her here hereafter hereby herein hereupon hers
herself him himself his how however hundred i ie if in inc indeed interest into is it its itself
keep last latter latterly least less ltd made many may me meanwhile might mill mine more
moreover most mostly move much must my myself name namely neither never nevertheless next nine
no nobody none noone nor not nothing now nowhere of off often on once one only onto or other
others otherwise our ours ourselves out over own part per perhaps please put rather re same see
seem seemed seeming seems serious several she should show side since sincere six sixty so some
somehow someone something sometime sometimes somewhere still such system take ten than that the
their them themselves then thence there thereafter thereby therefore therein thereupon these
they thick thin third this those though three through throughout thru thus to together too top
toward towards twelve twenty two un under until up upon us very via was we well were what
whatever when whence whenever where whereafter whereas whereby wherein whereupon wherever
whether which while whither who whoever whole whom whose why will with within without would yet
you your yours yourself yourselves
    """.split()
)

CONTRACTION_STOP_WORDS = frozenset(
    """
did does doing dont didnt doesnt isnt wasnt arent werent havent hasnt hadnt wouldnt shouldnt
couldnt mustnt im ive youre youve youll theyre theyve thats theres whats
    """.split()
)

# The names of the ways to reach an address. Inside an address they go with it (cleaning drops
# "ftp.uu.net", "http://..."); on their own they are what is left of one, the instructions to fetch
# a file ("available by anonymous ftp from ...", "ftp> cd pub"), not the subject of the text.
ADDRESS_STOP_WORDS = frozenset("ftp http https www gopher telnet".split())

# The words of the SMART stop list that the Glasgow list lacks, as MALLET, the topic-modelling
# toolkit, ships that list for its topic models (github.com/mimno/Mallet, stoplists/en.txt, Apache
# 2.0; 221 words of 2+ letters). They are the common words of conversation and instructions
# ("just", "know", "think", "said", "going", "use", "need", "available", "new"): frequent in every
# subject, they otherwise take places among the top words of several topics at once (20 Newsgroups:
# `said know just went like going came`, docs/corpus-preparation.md).
TOPIC_MODEL_STOP_WORDS = frozenset(
    """
able according accordingly actually allow allows anybody anyways apart appear appreciate
appropriate aside ask asking associated available away awfully believe best better brief came cause
causes certain certainly changes clearly com come comes concerning consequently consider
considering contain containing contains corresponding course currently definitely described despite
different downwards edu entirely especially et everybody ex exactly example far fifth followed
following follows forth furthermore gets getting given gives goes going gone got gotten greetings
happens hardly having hello help hi hither hopefully howbeit ignored immediate inasmuch indicate
indicated indicates inner insofar instead inward just keeps kept know known knows lately later lest
let like liked likely little look looking looks mainly maybe mean merely nd near nearly necessary
need needs new non normally novel obviously oh ok okay old ones ought outside overall particular
particularly placed plus possible presumably probably provides que quite qv rd really reasonably
regarding regardless regards relatively respectively right said saw say saying says second secondly
seeing seen self selves sensible sent seriously seven shall somebody somewhat soon sorry specified
specify specifying sub sup sure taken tell tends th thank thanks thanx theirs think thorough
thoroughly took tried tries truly try trying twice unfortunately unless unlikely unto use used
useful uses using usually uucp value various viz vs want wants way welcome went willing wish wonder
yes zero
    """.split()
)

_WORD = re.compile(r"\S+")


def parse_stop_words(lines, source: str) -> list:
    """Words of a stop-word list: one a line, lower-cased; blank lines and lines starting with #
    are skipped. `source` names the list in errors (a file, or --stop-words)."""
    words = []
    for number, line in enumerate(lines, start=1):
        word = line.strip().lower()
        if not word or word.startswith("#"):
            continue
        if not _WORD.fullmatch(word):
            raise PrepareError(f"{source}:{number}: {line.strip()!r} is not one word (give one stop word a line)")
        words.append(word)
    return words


def read_stop_words(path: str, option: str = "--stop-words-file") -> list:
    """A stop-word file: UTF-8, one word a line. An unreadable file is an error naming the option."""
    if path.startswith("s3://"):
        raise PrepareError(f"{option} {path}: an s3:// file is read by the pipeline; here give a local path (download it first)")
    try:
        with open(path, encoding="utf-8") as stream:
            return parse_stop_words(stream.read().split("\n"), f"{option} {path}")
    except (OSError, UnicodeDecodeError) as error:
        raise PrepareError(f"{option} {path}: cannot read the stop-word file ({error})") from None


def user_stop_words(words: list, files: list) -> tuple:
    """The user's stop words from --stop-words (words, or comma-separated words) and
    --stop-words-file, lower-cased, without duplicates, sorted."""
    given = [word for item in words for word in item.split(",")]
    found = parse_stop_words(given, "--stop-words")
    for path in files:
        found.extend(read_stop_words(path))
    return tuple(sorted(set(found)))

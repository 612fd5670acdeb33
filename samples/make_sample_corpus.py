"""Write samples/sample-news.jsonl: a small, made-up corpus for `make dry-run` and the pipeline tests.

Every sentence is generated here from word lists written for this project (no third-party text),
so the file is free to ship. Four themes, each with its own words and some shared filler, plus the
debris real posts carry and topics should not show (docs/corpus-preparation.md, cleaning): chatter
with contractions and sign-offs with e-mail addresses and URLs in every theme, league tables in the
football posts and download addresses in the computing ones. Without the cleaning (`clean_text`
false) the last two reach those topics' top words (tests/unit/preparation/test_sample_corpus.py).

    python samples/make_sample_corpus.py
"""

from __future__ import annotations

import json
import random
from pathlib import Path

THEMES = {
    "space": "orbit rocket launch satellite planet telescope astronaut mission lunar galaxy comet crater "
             "gravity spacecraft booster capsule nebula asteroid eclipse module".split(),
    "cooking": "recipe oven flour butter garlic onion simmer roast sauce pepper dough bake skillet "
               "vinegar basil noodle broth caramel whisk pastry".split(),
    "football": "goal striker keeper penalty league referee midfield tackle corner season coach "
                "stadium transfer derby header winger offside fixture trophy dribble".split(),
    "computing": "compiler kernel server database memory processor cache network script debugger "
                 "thread socket runtime library cluster packet terminal binary storage algorithm".split(),
}
FILLER = "the a of and to in is was for on with this that it as at by from new also more about".split()
DOCUMENTS_PER_THEME = 60
CHATTER = [
    "I don't know if you'll agree.", "We didn't expect that, I'll admit.", "It isn't what they'd said.",
    "You're right, I've seen it too.", "Doesn't matter, we'll see.", "I'd say it wasn't bad.",
]
PEOPLE = ["ana", "ben", "chen", "dev", "eli", "fay"]
HOSTS = ["mail.example.com", "cs.example.edu", "news.example.org", "lab.example.net"]
TEAMS = ["ROV", "UTD", "CTY", "ATH", "ALB", "WAN"]


def debris(rng: random.Random, theme: str) -> str:
    """What real posts carry besides their subject, and the more so in some subjects: the sports
    groups post league tables, the computing groups say where to fetch the code."""
    parts = rng.sample(CHATTER, rng.randint(1, 2))
    if theme == "football" and rng.random() < 0.8:
        # The round's results (home, goals, away, goals, attendance in thousands), then the table.
        teams = rng.sample(TEAMS, len(TEAMS))
        results = (f"  {home}  {rng.randint(0, 4)}  {away}  {rng.randint(0, 4)}  ({rng.randint(5, 60)})\n"
                   for home, away in zip(teams[::2], teams[1::2]))
        table = (f"  {team}  {rng.randint(20, 30)}  {rng.randint(0, 20)}  {rng.randint(0, 10)}  {rng.randint(0, 60)}\n"
                 for team in rng.sample(TEAMS, len(TEAMS)))
        parts.append("\n" + "".join(results) + "".join(table))
    person, host = rng.choice(PEOPLE), rng.choice(HOSTS)
    if theme == "computing" and rng.random() < 0.8:
        parts.append(f"The code is on ftp.{host}:/pub/{person}/ and http://www.{host}/pub/{person}/src/")
    if rng.random() < 0.6:
        parts.append(f"\n-- \nMail {person}@{host} or see http://www.{host}/~{person}/pub/notes.html")
    return " ".join(parts)


def document(rng: random.Random, theme: str) -> str:
    words = []
    for _ in range(rng.randint(4, 8)):
        sentence = rng.sample(THEMES[theme], 4) + rng.sample(FILLER, 3)
        rng.shuffle(sentence)
        words.append(" ".join(sentence).capitalize() + ".")
    return " ".join(words) + " " + debris(rng, theme)


def main() -> None:
    rng = random.Random(20261125)
    rows = [
        {"id": f"{theme}-{number:03d}", "label": theme, "text": document(rng, theme)}
        for theme in THEMES for number in range(DOCUMENTS_PER_THEME)
    ]
    rng.shuffle(rows)
    target = Path(__file__).with_name("sample-news.jsonl")
    target.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    print(f"wrote {len(rows)} documents to {target}")


if __name__ == "__main__":
    main()

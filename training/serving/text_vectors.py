"""Raw documents to the rows `training.prepare` writes for them: same cleaning, same tokens, same
vocabulary columns, same counts. Everything here calls the preparation's own functions."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Iterable

import numpy as np
import scipy.sparse

from training.preparation.serving_artifact import SETTINGS_FILE, VOCABULARY_FILE
from training.preparation.text_terms import TextSettings, document_terms, phrase_lookup
from training.preparation.token_spool import bag_of_words


class TextVectorizer:
    """The vocabulary and text settings of one dataset, applied to new documents."""

    def __init__(self, vocabulary: list[str], settings: TextSettings) -> None:
        self.vocabulary = vocabulary
        self.settings = settings
        self._phrases = phrase_lookup(settings)
        self._column = {word: column for column, word in enumerate(vocabulary)}

    @classmethod
    def load(cls, model_dir: Path) -> "TextVectorizer":
        """From the folder SageMaker extracts the serving artifact into (/opt/ml/model)."""
        vocabulary = (model_dir / VOCABULARY_FILE).read_text(encoding="utf-8").split("\n")
        if vocabulary and vocabulary[-1] == "":
            vocabulary.pop()
        settings = TextSettings.from_json(json.loads((model_dir / SETTINGS_FILE).read_text(encoding="utf-8")))
        return cls(vocabulary, settings)

    def terms(self, text: str) -> list[str]:
        """The document's tokens, as the preparation's counting pass sees them."""
        return document_terms(text, self.settings, self._phrases)

    def vectors(self, texts: Iterable[str]) -> scipy.sparse.csr_matrix:
        """Word counts per document (float32 CSR, columns sorted), one row per text, in order."""
        per_document = [self.terms(text) for text in texts]
        lengths = np.fromiter(map(len, per_document), dtype=np.int64, count=len(per_document))
        tokens_in_order = itertools.chain.from_iterable(per_document)
        columns = np.fromiter(map(self._column.get, tokens_in_order, itertools.repeat(-1)),
                              dtype=np.int64, count=int(lengths.sum()))
        # bag_of_words maps term ids through `columns`: here every token is its own term id.
        return bag_of_words(np.arange(len(columns)), lengths, columns, len(self.vocabulary))

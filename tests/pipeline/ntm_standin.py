"""The offline stand-in for NTM's learning: scikit-learn NMF, so that the topics of a local run make
sense. The harness's training jobs fit it (local_deployment.fitted_model), and the tests that judge
the topics a corpus gives fit it the same way."""

from __future__ import annotations

import numpy as np
from scipy import sparse

# A decoder entry is a log weight: NMF's zero weights become this floor instead of -inf.
WEIGHT_FLOOR = 1e-3


def fit(corpus: sparse.csr_matrix, num_topics: int, seed: int = 0):
    """The fitted NMF and its topics as NTM's decoder lays them out (vocabulary x topics, log weights)."""
    from sklearn.decomposition import NMF

    nmf = NMF(n_components=num_topics, init="nndsvda", max_iter=400, random_state=seed).fit(corpus)
    return nmf, np.log(nmf.components_.T + WEIGHT_FLOOR).astype(np.float32)

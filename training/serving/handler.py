"""The four functions the scikit-learn serving container calls (sagemaker-scikit-learn-container
`serving.py` -> sagemaker-containers `_transformer.Transformer`): model_fn once per worker, then
input_fn -> predict_fn -> output_fn per request.

The answer is sparse RecordIO-protobuf, the format NTM reads in batch transform too; its content
type travels with the response, and SageMaker hands it to the next container of the serial
inference pipeline (NTM) as that container's request.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Tuple, Union

import scipy.sparse

from training.formats import recordio
from training.serving.text_requests import parse_texts
from training.serving.text_vectors import TextVectorizer

RECORDIO = "application/x-recordio-protobuf"


def model_fn(model_dir: str) -> TextVectorizer:
    return TextVectorizer.load(Path(model_dir))


def input_fn(body: Union[str, bytes], content_type: str) -> list:
    return parse_texts(body, content_type)


def predict_fn(texts: list, model: TextVectorizer) -> scipy.sparse.csr_matrix:
    return model.vectors(texts)


def output_fn(vectors: scipy.sparse.csr_matrix, accept: str) -> Tuple[bytes, str]:
    """Always RecordIO for NTM, whatever the caller's Accept (that one is NTM's to answer)."""
    body = io.BytesIO()
    recordio.write_sparse(body, vectors)
    return body.getvalue(), RECORDIO

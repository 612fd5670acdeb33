"""Regenerate the golden RecordIO-protobuf files in tests/fixtures/recordio/ with the sagemaker SDK v2.

    cd /work/main && .venv/bin/python scripts/make_recordio_fixtures.py

Each case is written twice: `<case>.npz` holds the input (a CSR matrix's data/indices/indptr/shape
or a dense `array`, plus `labels` when the case has them) and `<case>.pbr` holds what the SDK's
`write_spmatrix_to_sparse_tensor` / `write_numpy_to_dense_tensor` made of it. The tests check that
training.formats.recordio writes the same bytes and reads the same matrix back. The SDK is a development
dependency only (requirements-dev.txt); nothing at run time imports it.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import scipy.sparse

# Importing the SDK v2 prints a deprecation banner and probes the EC2 metadata address otherwise.
os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
from sagemaker.amazon.common import (  # noqa: E402
    write_numpy_to_dense_tensor,
    write_spmatrix_to_sparse_tensor,
)

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "recordio"


def _counts(rows: int, columns: int, density: float, seed: int) -> scipy.sparse.csr_matrix:
    """Word-count-like rows; row 1 is left empty, as a document without known words would be."""
    matrix = scipy.sparse.random(rows, columns, density=density, format="csr", random_state=seed)
    matrix.data = np.ceil(matrix.data * 9)
    matrix = matrix.astype(np.float32).tolil()
    matrix[1, :] = 0
    return matrix.tocsr()


def _cases() -> dict:
    rng = np.random.default_rng(7)
    sparse = _counts(8, 300, 0.1, seed=1)
    dense = rng.normal(size=(4, 5)).astype(np.float32)
    return {
        "sparse_float32": (sparse, None),
        "sparse_float32_float32_labels": (sparse, rng.random(8).astype(np.float32)),
        "sparse_float32_int_labels": (sparse, rng.integers(-3, 300, size=8)),
        # 20,000 columns: keys need three-byte varints.
        "sparse_float32_wide": (_counts(3, 20000, 0.002, seed=2), None),
        "dense_float32": (dense, None),
        "dense_float32_float64_labels": (dense, rng.random(4)),
        "dense_float64": (rng.normal(size=(3, 4)), None),
        "dense_int": (rng.integers(-1000, 1000, size=(3, 4)), None),
    }


def _save_input(path: Path, matrix, labels) -> None:
    arrays = {} if labels is None else {"labels": labels}
    if scipy.sparse.issparse(matrix):
        arrays.update(data=matrix.data, indices=matrix.indices, indptr=matrix.indptr, shape=np.array(matrix.shape))
    else:
        arrays["array"] = matrix
    np.savez(path, **arrays)


def main() -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for name, (matrix, labels) in _cases().items():
        buffer = io.BytesIO()
        writer = write_spmatrix_to_sparse_tensor if scipy.sparse.issparse(matrix) else write_numpy_to_dense_tensor
        writer(buffer, matrix, labels)
        (FIXTURES / f"{name}.pbr").write_bytes(buffer.getvalue())
        _save_input(FIXTURES / f"{name}.npz", matrix, labels)
        print(f"{name}.pbr: {len(buffer.getvalue())} bytes")


if __name__ == "__main__":
    main()

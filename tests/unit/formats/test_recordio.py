"""training.formats.recordio against golden bytes from the sagemaker SDK v2 (tests/fixtures/recordio)."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse

from training.formats import recordio

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "recordio"
CASES = sorted(path.stem for path in FIXTURES.glob("*.pbr"))
NIPS = Path("/work/shared/data/ntm/nips-train_1.pbr")


def _load_input(name: str):
    arrays = np.load(FIXTURES / f"{name}.npz")
    labels = arrays["labels"] if "labels" in arrays else None
    if "array" in arrays:
        return arrays["array"], labels
    matrix = scipy.sparse.csr_matrix((arrays["data"], arrays["indices"], arrays["indptr"]), shape=tuple(arrays["shape"]))
    return matrix, labels


def _encode(matrix, labels=None) -> bytes:
    buffer = io.BytesIO()
    writer = recordio.write_sparse if scipy.sparse.issparse(matrix) else recordio.write_dense
    writer(buffer, matrix, labels)
    return buffer.getvalue()


def test_every_writer_case_has_a_fixture():
    assert {name.split("_")[0] for name in CASES} == {"sparse", "dense"}
    assert len(CASES) == 8
    assert sorted(path.stem for path in FIXTURES.glob("*.npz")) == CASES


@pytest.mark.parametrize("name", CASES)
def test_writer_matches_sdk_bytes(name):
    matrix, labels = _load_input(name)
    assert _encode(matrix, labels) == (FIXTURES / f"{name}.pbr").read_bytes()


@pytest.mark.parametrize("name", CASES)
def test_reader_returns_the_written_matrix(name):
    matrix, labels = _load_input(name)
    read = recordio.read_sparse(FIXTURES / f"{name}.pbr")
    expected = scipy.sparse.csr_matrix(matrix, dtype=np.float32)
    assert read.shape == expected.shape
    assert read.dtype == np.float32
    assert (read != expected).nnz == 0
    if labels is not None:
        np.testing.assert_array_equal(recordio.read_labels(FIXTURES / f"{name}.pbr"), labels)


def test_sparse_round_trip_keeps_empty_rows_and_shape():
    matrix = scipy.sparse.csr_matrix(np.array([[0, 0, 0, 0], [1, 0, 0, 2.5], [0, 0, 0, 0]], dtype=np.float32))
    read = recordio.read_sparse(io.BytesIO(_encode(matrix)))
    assert read.shape == (3, 4)
    np.testing.assert_array_equal(read.toarray(), matrix.toarray())


def test_blocks_do_not_change_the_bytes(monkeypatch):
    matrix = scipy.sparse.random(50, 200, density=0.2, format="csr", dtype=np.float32, random_state=3)
    whole = _encode(matrix)
    monkeypatch.setattr(recordio, "_BLOCK_VALUES", 7)
    assert _encode(matrix) == whole


def test_sparse_rows_carry_values_keys_and_shape():
    record = next(recordio.read_records(io.BytesIO(_encode(scipy.sparse.csr_matrix(np.array([[0, 3.0, 0, 1.0]], dtype=np.float32))))))
    tensor = record.features["values"]
    np.testing.assert_array_equal(tensor.values, [3.0, 1.0])
    np.testing.assert_array_equal(tensor.keys, [1, 3])
    assert tensor.shape == (4,)
    assert record.label == {}


def test_records_are_framed_and_padded_to_four_bytes():
    data = _encode(np.array([[1.0]], dtype=np.float32))
    magic, length = struct.unpack("<II", data[:8])
    assert magic == recordio.MAGIC
    assert len(data) == 8 + length + (-length % 4)
    assert len(data) % 4 == 0


def test_rejects_unsupported_inputs():
    with pytest.raises(ValueError, match="unsupported dtype"):
        _encode(np.zeros((2, 2), dtype=np.uint8))
    with pytest.raises(TypeError):
        recordio.write_sparse(io.BytesIO(), np.zeros((2, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="labels"):
        _encode(np.zeros((2, 2), dtype=np.float32), np.zeros(3, dtype=np.float32))
    with pytest.raises(ValueError, match="int32"):
        _encode(np.array([[2**40]]))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: b"\x00" + data[1:], "bad magic"),
        (lambda data: data[:-4], "truncated"),
        (lambda data: data[:6], "truncated record header"),
        (lambda data: data[:-1] + b"\x01", "non-zero padding"),
        (lambda data: data[:4] + struct.pack("<I", struct.unpack("<I", data[4:8])[0] | 1 << 29) + data[8:], "split in parts"),
    ],
)
def test_reader_reports_damaged_framing(damage, message):
    # Two values make a 31-byte record, so one byte of padding follows it.
    data = _encode(scipy.sparse.csr_matrix(np.array([[1.0, 0.0, 2.0]], dtype=np.float32)))
    assert struct.unpack("<I", data[4:8])[0] % 4 != 0
    with pytest.raises(recordio.RecordIOError, match=message):
        list(recordio.iter_records(io.BytesIO(damage(data))))


def test_reader_rejects_records_of_different_widths():
    data = _encode(scipy.sparse.csr_matrix((1, 3), dtype=np.float32)) + _encode(scipy.sparse.csr_matrix((1, 4), dtype=np.float32))
    with pytest.raises(recordio.RecordIOError, match="disagree"):
        recordio.read_sparse(io.BytesIO(data))


def test_inspect_prints_a_json_summary(tmp_path, capsys):
    path = tmp_path / "part.pbr"
    path.write_bytes(_encode(scipy.sparse.csr_matrix(np.array([[0, 2.0, 1.0], [0, 0, 0]], dtype=np.float32))))
    assert recordio.main(["inspect", str(path)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["records"] == 2
    assert summary["shape"] == [2, 3]
    assert summary["non_zeros"] == 2
    assert summary["sum_of_values"] == 3.0


def test_inspect_fails_cleanly_on_a_file_that_is_not_recordio(tmp_path, capsys):
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is not RecordIO")
    assert recordio.main(["inspect", str(path)]) == 1
    assert "bad magic" in capsys.readouterr().err


@pytest.mark.skipif(not NIPS.exists(), reason="shared NTM sample data not present")
def test_real_ntm_training_file_parses_and_reencodes_identically():
    matrix = recordio.read_sparse(NIPS)
    assert matrix.shape == (350, 12419)
    assert _encode(matrix) == NIPS.read_bytes()

"""RecordIO-protobuf, the input format of SageMaker's built-in algorithms, in plain numpy.

The bytes written are identical to the sagemaker SDK v2 writers
(`write_spmatrix_to_sparse_tensor`, `write_numpy_to_dense_tensor`), without needing the SDK or
protobuf at run time: the few messages involved (`aialgs.data.Record`, `Value`, `*Tensor`) are
encoded by hand, all records of a block at once.

Framing of one record: uint32 LE magic 0xCED7230A, uint32 LE payload length, the payload, zero
padding to a multiple of 4 bytes. A payload is a `Record` whose `features["values"]` (and, with
labels, `label["values"]`) holds a tensor: dense rows carry `values` only, sparse rows carry
`values`, `keys` (column indices) and `shape` ([n_columns]).

    python -m training.recordio inspect FILE...   prints a JSON summary per file
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np
import scipy.sparse

MAGIC = 0xCED7230A
_HEADER = struct.Struct("<II")
# The upper 3 bits of the length word are MXNet's continuation flag (a record split in parts).
_LENGTH_MASK = (1 << 29) - 1

# Protobuf keys (field number << 3 | wire type 2, length-delimited) of the messages we write.
_RECORD_FEATURES, _RECORD_LABEL = 0x0A, 0x12
_ENTRY_KEY, _ENTRY_VALUE = 0x0A, 0x12
_TENSOR_VALUES, _TENSOR_KEYS, _TENSOR_SHAPE = 0x0A, 0x12, 0x1A
_ENTRY_NAME = b"values"

# Value's oneof field per tensor type, chosen from the dtype as the SDK does.
_FLOAT32, _FLOAT64, _INT32 = "float32", "float64", "int32"
_VALUE_FIELD = {_FLOAT32: 2, _FLOAT64: 3, _INT32: 7}
_TENSOR_TYPE_OF_FIELD = {field: name for name, field in _VALUE_FIELD.items()}

# Values encoded per block: bounds the temporary index arrays (4 bytes per output byte) and
# keeps them below glibc's mmap threshold, so blocks reuse memory instead of page-faulting anew.
_BLOCK_VALUES = 1 << 18

PathOrStream = Union[str, Path, BinaryIO]


class RecordIOError(ValueError):
    """The bytes are not RecordIO-protobuf as SageMaker's algorithms read it."""


# --------------------------------------------------------------------------- writing


@dataclass(frozen=True)
class _Segment:
    """One piece of every record of a block: `data` holds the pieces of all records back to back."""

    data: np.ndarray  # uint8
    lengths: np.ndarray  # int64, bytes per record (0 = absent)


def _tensor_type(dtype: np.dtype) -> str:
    if dtype == np.float32:
        return _FLOAT32
    if dtype == np.float64:
        return _FLOAT64
    if np.issubdtype(dtype, np.signedinteger):
        return _INT32
    raise ValueError(f"unsupported dtype {dtype}: use float32, float64 or a signed integer type")


def _varint_segment(values: np.ndarray, present: np.ndarray | None = None) -> _Segment:
    """Protobuf varints of `values` (unsigned), one per record; records not `present` get none."""
    top = int(values.max(initial=0))
    values = values.astype(np.uint32 if top < 2**32 else np.uint64, copy=False)
    width = max(1, (top.bit_length() + 6) // 7)
    sizes = np.ones(len(values), dtype=np.int64)
    for group in range(1, width):
        sizes += values >= values.dtype.type(1 << (7 * group))
    matrix = np.empty((len(values), width), dtype=np.uint8)
    for group in range(width):
        column = (values >> values.dtype.type(7 * group)).astype(np.uint8) & 0x7F
        if group < width - 1:
            column |= (sizes > group + 1).view(np.uint8) << 7
        matrix[:, group] = column
    if present is not None:
        sizes = np.where(present, sizes, 0)
    return _Segment(matrix[np.arange(width) < sizes[:, None]], sizes)


def _constant_segment(content: bytes, count: int, present: np.ndarray | None = None) -> _Segment:
    lengths = np.full(count, len(content), dtype=np.int64)
    if present is not None:
        lengths[~present] = 0
    data = np.frombuffer(content * int(np.count_nonzero(lengths)), dtype=np.uint8)
    return _Segment(data, lengths)


def _size(segments: list[_Segment]) -> np.ndarray:
    return np.sum([segment.lengths for segment in segments], axis=0)


def _length_delimited(key: int, content: list[_Segment], present: np.ndarray | None = None) -> list[_Segment]:
    """A field holding `content`: its key, its length as a varint, then the content."""
    size = _size(content)
    count = len(size)
    return [_constant_segment(bytes([key]), count, present), _varint_segment(size, present), *content]


def _grouped(segment: _Segment, per_record: np.ndarray) -> _Segment:
    """A segment of one piece per value regrouped into one per record, of `per_record` values each."""
    bounds = np.concatenate(([0], np.cumsum(segment.lengths)))
    ends = np.cumsum(per_record)
    return _Segment(segment.data, bounds[ends] - bounds[ends - per_record])


def _packed_values(values: np.ndarray, per_record: np.ndarray, tensor_type: str) -> _Segment:
    """The payload of a packed `values` field: raw little-endian floats, or varints for int32."""
    if tensor_type == _INT32:
        if values.size and (values.min() < -(2**31) or values.max() >= 2**31):
            raise ValueError("integer values must fit in int32")
        # Negative int32 values are varints of their 64-bit two's complement (10 bytes).
        return _grouped(_varint_segment(values.astype(np.int64).view(np.uint64)), per_record)
    width = 4 if tensor_type == _FLOAT32 else 8
    data = np.ascontiguousarray(values, dtype=f"<f{width}").view(np.uint8).reshape(-1)
    return _Segment(data, per_record.astype(np.int64) * width)


def _values_entry(key: int, tensor_type: str, tensor: list[_Segment]) -> list[_Segment]:
    """`Record.features` or `Record.label` holding {"values": <tensor>}."""
    count = len(tensor[0].lengths)
    value = _length_delimited(_VALUE_FIELD[tensor_type] << 3 | 2, tensor)
    entry = [_constant_segment(bytes([_ENTRY_KEY, len(_ENTRY_NAME)]) + _ENTRY_NAME, count)]
    return _length_delimited(key, entry + _length_delimited(_ENTRY_VALUE, value))


def _label_entry(labels: np.ndarray) -> list[_Segment]:
    tensor_type = _tensor_type(labels.dtype)
    values = _packed_values(labels, np.ones(len(labels), dtype=np.int64), tensor_type)
    return _values_entry(_RECORD_LABEL, tensor_type, _length_delimited(_TENSOR_VALUES, [values]))


def _frame(record: list[_Segment]) -> list[_Segment]:
    """The RecordIO framing around each record's payload: magic, length, padding."""
    size = _size(record)
    header = np.empty((len(size), 2), dtype="<u4")
    header[:, 0] = MAGIC
    header[:, 1] = size
    padding = -size % 4
    head = _Segment(header.view(np.uint8).reshape(-1), np.full(len(size), 8, dtype=np.int64))
    tail = _Segment(np.zeros(int(padding.sum()), dtype=np.uint8), padding)
    return [head, *record, tail]


def _interleave(segments: list[_Segment]) -> bytes:
    """Lay the segments out record by record: every output byte is gathered from its segment."""
    lengths = np.stack([segment.lengths for segment in segments], axis=1)
    data = np.concatenate([segment.data for segment in segments])
    segment_starts = np.cumsum([0] + [len(segment.data) for segment in segments[:-1]])
    source_starts = segment_starts + np.cumsum(lengths, axis=0) - lengths
    flat = lengths.reshape(-1)
    output_starts = np.cumsum(flat) - flat
    # int32 indices suffice: a block stays far below 2 GiB, and halve the memory traffic.
    index = np.repeat((source_starts.reshape(-1) - output_starts).astype(np.int32), flat)
    index += np.arange(len(index), dtype=np.int32)
    return data[index].tobytes()


def _row_blocks(row_sizes: np.ndarray) -> Iterator[tuple[int, int]]:
    """Consecutive row ranges holding about _BLOCK_VALUES values each."""
    ends = np.cumsum(row_sizes)
    start = 0
    while start < len(row_sizes):
        stop = int(np.searchsorted(ends, (ends[start - 1] if start else 0) + _BLOCK_VALUES, "right"))
        stop = max(stop, start + 1)
        yield start, stop
        start = stop


def _check_labels(labels: np.ndarray | None, rows: int) -> np.ndarray | None:
    if labels is None:
        return None
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != rows:
        raise ValueError(f"labels must be a vector of {rows} values, got shape {labels.shape}")
    _tensor_type(labels.dtype)
    return labels


def write_sparse(stream: BinaryIO, matrix, labels: np.ndarray | None = None) -> None:
    """Write each row of a scipy sparse matrix as one sparse record (values, keys, shape)."""
    if not scipy.sparse.issparse(matrix) or len(matrix.shape) != 2:
        raise TypeError("matrix must be a 2-D scipy sparse matrix")
    tensor_type = _tensor_type(matrix.dtype)
    csr = scipy.sparse.csr_matrix(matrix)
    labels = _check_labels(labels, csr.shape[0])
    shape = _varint_segment(np.array([csr.shape[1]], dtype=np.uint64)).data.tobytes()
    for start, stop in _row_blocks(np.diff(csr.indptr)):
        begin, end = csr.indptr[start], csr.indptr[stop]
        per_record = np.diff(csr.indptr[start : stop + 1]).astype(np.int64)
        present = per_record > 0
        keys = _grouped(_varint_segment(csr.indices[begin:end]), per_record)
        values = _packed_values(csr.data[begin:end], per_record, tensor_type)
        tensor = (
            _length_delimited(_TENSOR_VALUES, [values], present)
            + _length_delimited(_TENSOR_KEYS, [keys], present)
            + _length_delimited(_TENSOR_SHAPE, [_constant_segment(shape, stop - start)])
        )
        record = _values_entry(_RECORD_FEATURES, tensor_type, tensor)
        if labels is not None:
            record += _label_entry(labels[start:stop])
        stream.write(_interleave(_frame(record)))


def write_dense(stream: BinaryIO, array: np.ndarray, labels: np.ndarray | None = None) -> None:
    """Write each row of a 2-D array as one dense record (values only)."""
    array = np.asarray(array)
    if array.ndim != 2:
        raise ValueError(f"array must be 2-D, got shape {array.shape}")
    tensor_type = _tensor_type(array.dtype)
    labels = _check_labels(labels, array.shape[0])
    rows, columns = array.shape
    for start, stop in _row_blocks(np.full(rows, max(columns, 1))):
        per_record = np.full(stop - start, columns, dtype=np.int64)
        values = _packed_values(array[start:stop].reshape(-1), per_record, tensor_type)
        tensor = _length_delimited(_TENSOR_VALUES, [values], per_record > 0)
        record = _values_entry(_RECORD_FEATURES, tensor_type, tensor)
        if labels is not None:
            record += _label_entry(labels[start:stop])
        stream.write(_interleave(_frame(record)))


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Tensor:
    """One decoded tensor: `keys` is None for a dense tensor."""

    values: np.ndarray
    keys: np.ndarray | None
    shape: tuple[int, ...]


@dataclass(frozen=True)
class Record:
    features: dict
    label: dict


def iter_records(stream: BinaryIO) -> Iterator[bytes]:
    """Yield the payload of each record, checking the framing as it goes."""
    offset = 0
    while True:
        header = stream.read(_HEADER.size)
        if not header:
            return
        if len(header) < _HEADER.size:
            raise RecordIOError(f"truncated record header at byte {offset}")
        magic, length_word = _HEADER.unpack(header)
        if magic != MAGIC:
            raise RecordIOError(f"bad magic 0x{magic:08X} at byte {offset} (expected 0x{MAGIC:08X})")
        if length_word >> 29:
            raise RecordIOError(f"record at byte {offset} is split in parts, which is not supported")
        length = length_word & _LENGTH_MASK
        padded = length + (-length % 4)
        body = stream.read(padded)
        if len(body) < padded:
            raise RecordIOError(f"record at byte {offset} is truncated: {len(body)} of {padded} bytes")
        if any(body[length:]):
            raise RecordIOError(f"record at byte {offset} has non-zero padding")
        yield body[:length]
        offset += _HEADER.size + padded


def _read_varint(buffer: bytes, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if position >= len(buffer):
            raise RecordIOError("truncated varint")
        byte = buffer[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, position
        shift += 7


def _fields(buffer: bytes) -> Iterator[tuple[int, int, object]]:
    """(field number, wire type, value) of each field; value is the bytes of a delimited field."""
    position = 0
    while position < len(buffer):
        key, position = _read_varint(buffer, position)
        field, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, position = _read_varint(buffer, position)
        elif wire_type == 2:
            length, position = _read_varint(buffer, position)
            value = buffer[position : position + length]
            if len(value) < length:
                raise RecordIOError("truncated length-delimited field")
            position += length
        elif wire_type in (1, 5):
            width = 8 if wire_type == 1 else 4
            value = buffer[position : position + width]
            position += width
        else:
            raise RecordIOError(f"unsupported protobuf wire type {wire_type}")
        yield field, wire_type, value


def _decode_varints(buffer: bytes) -> np.ndarray:
    """All varints packed in `buffer`, as uint64."""
    data = np.frombuffer(buffer, dtype=np.uint8)
    if data.size == 0:
        return np.zeros(0, dtype=np.uint64)
    if data[-1] & 0x80:
        raise RecordIOError("truncated packed varints")
    last = data < 0x80
    which = np.concatenate(([0], np.cumsum(last)[:-1]))
    first_of_each = np.flatnonzero(np.concatenate(([True], last[:-1])))
    position = np.arange(data.size) - first_of_each[which]
    parts = (data & 0x7F).astype(np.uint64) << (position.astype(np.uint64) * np.uint64(7))
    return np.bitwise_or.reduceat(parts, first_of_each)


def _decode_tensor(buffer: bytes, tensor_type: str) -> Tensor:
    values, keys, shape = np.zeros(0), None, ()
    for field, wire_type, value in _fields(buffer):
        if field in (1, 2, 3) and wire_type != 2:
            raise RecordIOError("only packed repeated tensor fields are supported")
        if field == 1:
            if tensor_type == _INT32:
                values = _decode_varints(value).view(np.int64).astype(np.int32)
            else:
                values = np.frombuffer(value, dtype="<f4" if tensor_type == _FLOAT32 else "<f8")
        elif field == 2:
            keys = _decode_varints(value)
        elif field == 3:
            shape = tuple(int(size) for size in _decode_varints(value))
    return Tensor(values, keys, shape)


def _decode_entry(buffer: bytes) -> tuple[str, Tensor]:
    name, tensor = "", None
    for field, _, value in _fields(buffer):
        if field == 1:
            name = bytes(value).decode("utf-8")
        elif field == 2:
            for value_field, _, content in _fields(value):
                if value_field not in _TENSOR_TYPE_OF_FIELD:
                    raise RecordIOError(f"Value field {value_field} is not a float32/float64/int32 tensor")
                tensor = _decode_tensor(content, _TENSOR_TYPE_OF_FIELD[value_field])
    if tensor is None:
        raise RecordIOError(f"map entry {name!r} holds no tensor")
    return name, tensor


def decode_record(payload: bytes) -> Record:
    features, label = {}, {}
    for field, _, value in _fields(payload):
        if field in (1, 2):
            name, tensor = _decode_entry(value)
            (features if field == 1 else label)[name] = tensor
    return Record(features, label)


def read_records(path_or_stream: PathOrStream) -> Iterator[Record]:
    if isinstance(path_or_stream, (str, Path)):
        with open(path_or_stream, "rb") as stream:
            yield from read_records(stream)
        return
    for payload in iter_records(path_or_stream):
        yield decode_record(payload)


def _row(tensor: Tensor) -> tuple[np.ndarray, np.ndarray, int]:
    """(column indices, values, number of columns) of a feature tensor, dense or sparse."""
    # A sparse row without values has no keys either, only its shape.
    if tensor.keys is None and not (tensor.shape and len(tensor.values) == 0):
        columns = np.flatnonzero(tensor.values)
        return columns, tensor.values[columns], len(tensor.values)
    keys = np.zeros(0, dtype=np.uint64) if tensor.keys is None else tensor.keys
    if len(keys) != len(tensor.values):
        raise RecordIOError(f"{len(keys)} keys but {len(tensor.values)} values")
    if not tensor.shape:
        raise RecordIOError("a sparse tensor without shape")
    return keys, tensor.values, tensor.shape[0]


def _to_csr(records: Iterable[Record]) -> scipy.sparse.csr_matrix:
    indices, data, row_sizes, widths = [], [], [], set()
    for number, record in enumerate(records):
        if "values" not in record.features:
            raise RecordIOError(f"record {number} has no features['values']")
        columns, values, width = _row(record.features["values"])
        indices.append(columns)
        data.append(values)
        row_sizes.append(len(columns))
        widths.add(width)
    if len(widths) > 1:
        raise RecordIOError(f"records disagree on the number of columns: {sorted(widths)}")
    width = widths.pop() if widths else 0
    indptr = np.concatenate(([0], np.cumsum(row_sizes, dtype=np.int64)))
    flat_indices = np.concatenate(indices).astype(np.int64) if indices else np.zeros(0, np.int64)
    if flat_indices.size and flat_indices.max() >= width:
        raise RecordIOError(f"a key is outside the shape ({width} columns)")
    flat_data = np.concatenate(data).astype(np.float32) if data else np.zeros(0, np.float32)
    return scipy.sparse.csr_matrix((flat_data, flat_indices, indptr), shape=(len(row_sizes), width))


def read_sparse(path_or_stream: PathOrStream) -> scipy.sparse.csr_matrix:
    """All records' `features["values"]` as float32 CSR rows, one row per record."""
    return _to_csr(read_records(path_or_stream))


def read_labels(path_or_stream: PathOrStream) -> np.ndarray:
    """The scalar `label["values"]` of each record."""
    labels = []
    for number, record in enumerate(read_records(path_or_stream)):
        tensor = record.label.get("values")
        if tensor is None or len(tensor.values) != 1:
            raise RecordIOError(f"record {number} has no scalar label['values']")
        labels.append(tensor.values[0])
    return np.array(labels)


def summarize(path: str | Path) -> dict:
    """What `inspect` prints: records, shape, non-zeros, sum of values, labelled records."""
    records = list(read_records(path))
    matrix = _to_csr(records)
    return {
        "file": str(path),
        "bytes": Path(path).stat().st_size,
        "records": matrix.shape[0],
        "shape": list(matrix.shape),
        "non_zeros": int(np.count_nonzero(matrix.data)),
        "sum_of_values": float(matrix.data.sum(dtype=np.float64)),
        "labelled_records": sum(1 for record in records if record.label),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.recordio", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    inspect = commands.add_parser("inspect", help="print a JSON summary of each RecordIO-protobuf file")
    inspect.add_argument("files", nargs="+", metavar="FILE")
    arguments = parser.parse_args(argv)
    for path in arguments.files:
        try:
            print(json.dumps(summarize(path)))
        except (OSError, RecordIOError) as error:
            print(f"error: {path}: {error}", file=sys.stderr)
            return 1
    return 0

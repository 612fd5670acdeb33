"""Read (and fabricate) SageMaker NTM model artifacts without MXNet.

`model.tar.gz` holds `model_algo-1`, a zip with `meta.json`, `symbol.json` and `params`; `params` is
an MXNet NDArray list (layout from apache/mxnet src/ndarray/ndarray.cc, little-endian):

    uint64 0x112, uint64 0 (reserved), uint64 N, then N arrays:
      uint32 magic     V1 0xF993FAC8 (no storage type), V2 0xF993FAC9, V3 0xF993FACA (NumPy shape
                       semantics); any other value is a legacy header and the value is ndim
      int32 stype      V2/V3 only; 0 = dense
      int32 ndim, ndim x int64 dims     (legacy: the magic was ndim, dims are uint32)
      int32 dev_type, int32 dev_id, int32 dtype, then the data in C order
    uint64 K names, each uint64 length + UTF-8 bytes ("arg:..." / "aux:...")

NTM's decoder is `arg:projection_weight`, shape (vocabulary, topics).
The writer exists so tests and the offline harness can fake a trained model.
"""

from __future__ import annotations

import io
import json
import struct
import tarfile
import zipfile
from pathlib import Path
from typing import BinaryIO, Mapping

import numpy as np

LIST_MAGIC = 0x112
V1_MAGIC = 0xF993FAC8
V2_MAGIC = 0xF993FAC9
V3_MAGIC = 0xF993FACA
VERSION_MAGICS = {"v1": V1_MAGIC, "v2": V2_MAGIC, "v3": V3_MAGIC}
DENSE_STORAGE = 0
UNDEFINED_STORAGE = -1  # what MXNet writes for an array that was never allocated
STORAGE_NAMES = {1: "row_sparse", 2: "csr"}

# mshadow type flags; the others (bool, int16, bfloat16, ...) are not used by NTM.
DTYPES = {
    0: np.dtype("<f4"),
    1: np.dtype("<f8"),
    2: np.dtype("<f2"),
    3: np.dtype("u1"),
    4: np.dtype("<i4"),
    5: np.dtype("i1"),
    6: np.dtype("<i8"),
}
DTYPE_FLAGS = {dtype: flag for flag, dtype in DTYPES.items()}

DECODER_NAME = "arg:projection_weight"
MODEL_MEMBER = "model_algo-1"


class ParamsFormatError(ValueError):
    """The bytes are not a readable MXNet NDArray list or NTM model artifact."""


class UnsupportedArrayError(ParamsFormatError):
    """A well-formed array this reader does not handle (sparse storage, exotic dtype)."""


class _Reader:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self.offset = 0

    def take(self, size: int) -> bytes:
        end = self.offset + size
        if end > len(self._data):
            raise ParamsFormatError(
                f"params is truncated: wanted {size} bytes at offset {self.offset}, "
                f"{len(self._data) - self.offset} left"
            )
        chunk = self._data[self.offset:end]
        self.offset = end
        return chunk

    def unpack(self, fmt: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))

    def at_end(self) -> bool:
        return self.offset == len(self._data)


def _read_array(reader: _Reader, index: int) -> np.ndarray:
    (magic,) = reader.unpack("I")
    if magic in (V2_MAGIC, V3_MAGIC):
        (storage,) = reader.unpack("i")
        if storage not in (DENSE_STORAGE, UNDEFINED_STORAGE):
            name = STORAGE_NAMES.get(storage, "unknown")
            raise UnsupportedArrayError(
                f"array {index} uses storage type {storage} ({name}); only dense arrays are supported"
            )
    if magic in VERSION_MAGICS.values():
        (ndim,) = reader.unpack("i")
        shape = reader.unpack(f"{ndim}q") if ndim > 0 else ()
    else:  # legacy header: the magic word was ndim
        ndim = magic
        shape = reader.unpack(f"{ndim}I")
    # An unallocated array stops after its shape; V3 marks it with ndim -1 (there ndim 0 is a scalar).
    unallocated = (ndim < 0 or -1 in shape) if magic == V3_MAGIC else ndim == 0
    if unallocated:
        return np.zeros((0,), dtype=np.float32)
    _dev_type, _dev_id, flag = reader.unpack("iii")
    if flag not in DTYPES:
        raise UnsupportedArrayError(
            f"array {index} has dtype flag {flag}; supported flags: {sorted(DTYPES)}"
        )
    dtype = DTYPES[flag]
    count = int(np.prod(shape, dtype=np.int64))
    data = reader.take(count * dtype.itemsize)
    return np.frombuffer(data, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def read_ndarray_list(data: bytes) -> dict[str, np.ndarray]:
    """Parse an MXNet NDArray list; arrays are keyed by name (by position when the file has no names)."""
    reader = _Reader(data)
    magic, _reserved, count = reader.unpack("QQQ")
    if magic != LIST_MAGIC:
        raise ParamsFormatError(f"not an MXNet NDArray list: header {magic:#x}, expected {LIST_MAGIC:#x}")
    arrays = [_read_array(reader, index) for index in range(count)]
    (name_count,) = reader.unpack("Q")
    if name_count not in (0, count):
        raise ParamsFormatError(f"params holds {count} arrays but {name_count} names")
    names = [reader.take(reader.unpack("Q")[0]).decode("utf-8") for _ in range(name_count)]
    if not reader.at_end():
        raise ParamsFormatError(f"params has {len(data) - reader.offset} unexpected trailing bytes")
    return dict(zip(names or [str(index) for index in range(count)], arrays))


def _array_bytes(array: np.ndarray, version: str) -> bytes:
    dtype = array.dtype.newbyteorder("<") if array.dtype.itemsize > 1 else array.dtype
    if dtype not in DTYPE_FLAGS:
        raise UnsupportedArrayError(f"cannot write dtype {array.dtype}; supported: {list(DTYPE_FLAGS)}")
    if version == "legacy":
        header = struct.pack(f"<{array.ndim}I", *array.shape)
        header = struct.pack("<I", array.ndim) + header
    elif version in VERSION_MAGICS:
        header = struct.pack("<I", VERSION_MAGICS[version])
        if version != "v1":
            header += struct.pack("<i", DENSE_STORAGE)
        header += struct.pack(f"<i{array.ndim}q", array.ndim, *array.shape)
    else:
        raise ValueError(f"unknown NDArray version {version!r}; use v1, v2, v3 or legacy")
    device = struct.pack("<iii", 1, 0, DTYPE_FLAGS[dtype])  # dev_type 1 = CPU
    return header + device + np.ascontiguousarray(array, dtype=dtype).tobytes()


def write_ndarray_list(arrays: Mapping[str, np.ndarray], version: str = "v2") -> bytes:
    """Serialise named dense arrays as an MXNet NDArray list (`version`: v1, v2, v3 or legacy)."""
    out = [struct.pack("<QQQ", LIST_MAGIC, 0, len(arrays))]
    out += [_array_bytes(np.asarray(array), version) for array in arrays.values()]
    out.append(struct.pack("<Q", len(arrays)))
    for name in arrays:
        encoded = name.encode("utf-8")
        out.append(struct.pack("<Q", len(encoded)) + encoded)
    return b"".join(out)


def _model_zip(decoder: np.ndarray, arrays: Mapping[str, np.ndarray], version: str) -> bytes:
    vocabulary_size, num_topics = decoder.shape
    # meta.json / symbol.json are stand-ins: the reader only needs `params`.
    meta = {"fabricated": True, "feature_dim": vocabulary_size, "num_topics": num_topics}
    symbol = {"nodes": [{"op": "null", "name": "projection_weight", "inputs": []}], "heads": [[0, 0, 0]]}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("meta.json", json.dumps(meta))
        archive.writestr("symbol.json", json.dumps(symbol))
        archive.writestr("params", write_ndarray_list(arrays, version))
    return buffer.getvalue()


def write_model_tarball(
    path: str | Path,
    decoder: np.ndarray,
    *,
    extra_arrays: Mapping[str, np.ndarray] | None = None,
    version: str = "v2",
    instances: int = 1,
) -> Path:
    """Write a model.tar.gz shaped like NTM's, with `decoder` (vocabulary x topics) as its decoder.

    `instances` > 1 adds model_algo-2... members, as multi-instance training does.
    """
    decoder = np.asarray(decoder, dtype=np.float32)
    if decoder.ndim != 2:
        raise ValueError(f"decoder must be 2-D (vocabulary x topics), got shape {decoder.shape}")
    arrays = {**(extra_arrays or {}), DECODER_NAME: decoder}
    member = _model_zip(decoder, arrays, version)
    path = Path(path)
    with tarfile.open(path, "w:gz") as tar:
        for instance in range(1, instances + 1):
            info = tarfile.TarInfo(f"model_algo-{instance}")
            info.size = len(member)
            tar.addfile(info, io.BytesIO(member))
    return path


def read_model_params(model_tar: str | Path | BinaryIO) -> dict[str, np.ndarray]:
    """All arrays of the first instance's model in an NTM model.tar.gz (a path or binary file)."""
    try:
        opened = (
            tarfile.open(model_tar, "r:*")
            if isinstance(model_tar, (str, Path))
            else tarfile.open(fileobj=model_tar, mode="r:*")
        )
    except tarfile.ReadError as error:
        raise ParamsFormatError(f"the model is not a tar archive: {error}") from error
    with opened as tar:
        members = {Path(member.name).name: member for member in tar.getmembers() if member.isfile()}
        if MODEL_MEMBER not in members:
            raise ParamsFormatError(
                f"{MODEL_MEMBER} not found in the model archive; it holds {sorted(members) or 'nothing'}"
            )
        zipped = tar.extractfile(members[MODEL_MEMBER]).read()
    try:
        with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
            params = archive.read("params")
    except (zipfile.BadZipFile, KeyError) as error:
        raise ParamsFormatError(f"{MODEL_MEMBER} is not a zip holding 'params': {error}") from error
    return read_ndarray_list(params)


def load_decoder(model_tar: str | Path | BinaryIO) -> np.ndarray:
    """NTM's decoder matrix `arg:projection_weight`: vocabulary x topics; column k is topic k."""
    arrays = read_model_params(model_tar)
    if DECODER_NAME not in arrays:
        raise ParamsFormatError(f"{DECODER_NAME} not in the model params; names: {sorted(arrays)}")
    decoder = arrays[DECODER_NAME]
    if decoder.ndim != 2:
        raise ParamsFormatError(f"{DECODER_NAME} should be 2-D, has shape {decoder.shape}")
    return decoder

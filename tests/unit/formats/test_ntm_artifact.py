"""The MXNet NDArray-list reader and the NTM model.tar.gz helpers (training.formats.ntm_artifact)."""

import io
import struct
import tarfile
import zipfile

import numpy as np
import pytest

from training.formats.ntm_artifact import (
    DECODER_NAME,
    ParamsFormatError,
    UnsupportedArrayError,
    load_decoder,
    read_model_params,
    read_ndarray_list,
    write_model_tarball,
    write_ndarray_list,
)

RNG = np.random.default_rng(7)
ARRAYS = {
    "arg:projection_weight": RNG.normal(size=(50, 4)).astype(np.float32),
    "arg:enc_fc1_bias": RNG.normal(size=(8,)).astype(np.float64),
    "aux:bn_moving_mean": RNG.normal(size=(2, 3, 4)).astype(np.float16),
    "arg:counts": np.arange(12, dtype=np.int64).reshape(3, 4),
    "arg:small": np.array([[-1, 2], [3, -4]], dtype=np.int8),
    "arg:bytes": np.array([0, 255, 7], dtype=np.uint8),
    "arg:ids": np.array([1, -2, 3], dtype=np.int32),
}


def header(count: int) -> bytes:
    return struct.pack("<QQQ", 0x112, 0, count)


def names(*values: str) -> bytes:
    return struct.pack("<Q", len(values)) + b"".join(struct.pack("<Q", len(v)) + v.encode() for v in values)


@pytest.mark.parametrize("version", ["v1", "v2", "v3", "legacy"])
def test_every_header_version_round_trips_names_shapes_dtypes_and_values(version):
    parsed = read_ndarray_list(write_ndarray_list(ARRAYS, version))

    assert list(parsed) == list(ARRAYS)
    for name, expected in ARRAYS.items():
        assert parsed[name].dtype == expected.dtype
        np.testing.assert_array_equal(parsed[name], expected)


def test_v2_bytes_follow_the_mxnet_layout():
    matrix = np.array([[1.5, -2.0, 0.25]], dtype=np.float32)
    expected = (
        header(1)
        + struct.pack("<Ii", 0xF993FAC9, 0)  # V2 magic, dense storage
        + struct.pack("<iqq", 2, 1, 3)  # ndim, dims as int64
        + struct.pack("<iii", 1, 0, 0)  # cpu, device 0, float32
        + matrix.tobytes()
        + names("arg:w")
    )

    assert write_ndarray_list({"arg:w": matrix}, "v2") == expected


def test_hand_built_legacy_and_v1_headers_are_read():
    legacy = struct.pack("<III", 2, 2, 1) + struct.pack("<iii", 1, 0, 4) + struct.pack("<ii", 7, -8)
    v1 = struct.pack("<Iiq", 0xF993FAC8, 1, 2) + struct.pack("<iii", 2, 1, 1) + struct.pack("<dd", 0.5, 2.5)
    parsed = read_ndarray_list(header(2) + legacy + v1 + names("a", "b"))

    np.testing.assert_array_equal(parsed["a"], np.array([[7], [-8]], dtype=np.int32))
    np.testing.assert_array_equal(parsed["b"], np.array([0.5, 2.5]))


def test_v3_scalar_and_unallocated_arrays():
    scalar = struct.pack("<Iii", 0xF993FACA, 0, 0) + struct.pack("<iii", 1, 0, 0) + struct.pack("<f", 3.0)
    unallocated = struct.pack("<Iii", 0xF993FACA, -1, -1)
    parsed = read_ndarray_list(header(2) + scalar + unallocated + names("s", "none"))

    assert parsed["s"].shape == () and parsed["s"] == 3.0
    assert parsed["none"].size == 0


def test_unnamed_lists_are_keyed_by_position():
    array = np.ones((2, 2), dtype=np.float32)
    blob = write_ndarray_list({"x": array})
    unnamed = blob[: -len(names("x"))] + struct.pack("<Q", 0)

    parsed = read_ndarray_list(unnamed)
    assert list(parsed) == ["0"]
    np.testing.assert_array_equal(parsed["0"], array)


@pytest.mark.parametrize(("storage", "kind"), [(1, "row_sparse"), (2, "csr")])
def test_sparse_storage_is_rejected_with_its_name(storage, kind):
    blob = header(1) + struct.pack("<Ii", 0xF993FAC9, storage) + b"\0" * 64

    with pytest.raises(UnsupportedArrayError, match=f"storage type {storage} \\({kind}\\)"):
        read_ndarray_list(blob)


def test_unknown_dtype_is_rejected():
    blob = header(1) + struct.pack("<Iiiq", 0xF993FAC9, 0, 1, 2) + struct.pack("<iii", 1, 0, 7) + b"\1\0"

    with pytest.raises(UnsupportedArrayError, match="dtype flag 7"):
        read_ndarray_list(blob + names("flags"))


def test_writer_refuses_dtypes_mxnet_files_cannot_hold_here():
    with pytest.raises(UnsupportedArrayError, match="bool"):
        write_ndarray_list({"b": np.array([True])})


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (struct.pack("<QQQ", 0x113, 0, 0), "not an MXNet NDArray list"),
        (write_ndarray_list({"w": np.zeros((4, 4), np.float32)})[:-30], "truncated"),
        (write_ndarray_list({"w": np.zeros(2, np.float32)}) + b"junk", "trailing bytes"),
        (header(1) + write_ndarray_list({"w": np.zeros(1, np.float32)})[24:-17] + names("a", "b"), "2 names"),
    ],
)
def test_malformed_lists_raise_format_errors(blob, message):
    with pytest.raises(ParamsFormatError, match=message):
        read_ndarray_list(blob)


def test_model_tarball_round_trips_the_decoder(tmp_path):
    decoder = RNG.normal(size=(300, 7)).astype(np.float32)
    extra = {"arg:enc_weight": RNG.normal(size=(7, 300)).astype(np.float32)}
    path = write_model_tarball(tmp_path / "model.tar.gz", decoder, extra_arrays=extra, version="v3", instances=2)

    np.testing.assert_array_equal(load_decoder(path), decoder)
    assert set(read_model_params(path)) == {DECODER_NAME, "arg:enc_weight"}
    with tarfile.open(path) as tar:
        assert sorted(tar.getnames()) == ["model_algo-1", "model_algo-2"]
        with zipfile.ZipFile(tar.extractfile("model_algo-1")) as archive:
            assert sorted(archive.namelist()) == ["meta.json", "params", "symbol.json"]


def test_load_decoder_accepts_a_binary_file(tmp_path):
    decoder = np.eye(5, 3, dtype=np.float32)
    path = write_model_tarball(tmp_path / "model.tar.gz", decoder)

    with path.open("rb") as handle:
        np.testing.assert_array_equal(load_decoder(handle), decoder)


def _tarball(members: dict[str, bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    return buffer


def _zipped(**files: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("archive", "message"),
    [
        (lambda: io.BytesIO(b"not a tarball"), "not a tar archive"),
        (lambda: _tarball({"something-else": b""}), "model_algo-1 not found.*something-else"),
        (lambda: _tarball({"model_algo-1": b"not a zip"}), "not a zip holding 'params'"),
        (lambda: _tarball({"model_algo-1": _zipped(meta=b"{}")}), "not a zip holding 'params'"),
        (
            lambda: _tarball({"model_algo-1": _zipped(params=write_ndarray_list({"arg:other": np.ones(2)}))}),
            "arg:projection_weight not in the model params; names: \\['arg:other'\\]",
        ),
        (
            lambda: _tarball({"model_algo-1": _zipped(params=write_ndarray_list({DECODER_NAME: np.ones(2)}))}),
            "should be 2-D",
        ),
    ],
)
def test_bad_model_archives_say_what_is_wrong(archive, message):
    with pytest.raises(ParamsFormatError, match=message):
        load_decoder(archive())

"""Parity: the preprocessing container's handler gives every document exactly the row
`training.prepare` wrote for it (same columns, same counts), read from the dataset's own serving
artifact, for the sample corpus and for documents made to trip a re-implementation."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from training.formats import dataset as layout
from training.formats import recordio
from training.preparation import prepare
from training.serving import handler
from training.serving.text_requests import JSON, JSON_LINES

REPO = Path(__file__).resolve().parents[3]
SAMPLE = REPO / "samples" / "sample-news.jsonl"

TRICKY = [
    {"id": "headers", "text": "From: someone@example.com\nSubject: orbit rocket\nOrganization: Launch Inc\n\n"
                             "The shuttle reached orbit. The rocket engine worked."},
    {"id": "quoted", "text": "In article <1@example.com> pilot@example.com writes:\n> the shuttle engine failed\n"
                            "| quoted orbit\nI think the rocket launch was fine.\nbob wrote:\nlaunch launch orbit"},
    {"id": "signature", "text": "The engine and the brake of the car.\n--\nBob Smith, orbit engineer\nphone 555"},
    {"id": "unknown-words", "text": "zyxwv qwertyuiop orbit blorptastic launch 12345 _under x"},
    {"id": "non-ascii", "text": "Café orbit résumé über launch naïve ROCKET — “quoted” ½ engine\u2028brake Ελληνικά"},
    {"id": "encoded", "text": "orbit launch\nbegin 644 file\nM9F]R(&%L;\"!T:&4@;&%U;F-H(&]F(&$@<F]C:V5T(&%N9\"!T:&4@;W)B:70K\nrocket"},
    {"id": "crlf", "text": "Subject: cars\r\n\r\nThe engine\r\nand the wheel\r\n"},
    {"id": "case-and-punctuation", "text": "ORBIT,orbit;Orbit... LAUNCH!launch?(rocket)-rocket's"},
]
NO_KNOWN_WORD = {"id": "nothing-known", "text": "glorbnak frindlewump"}  # words seen once: below --min-df 2


def _corpus(folder: Path) -> tuple[Path, dict]:
    documents = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    documents += TRICKY + [NO_KNOWN_WORD]
    path = folder / "corpus.jsonl"
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in documents), encoding="utf-8")
    return path, {d["id"]: d["text"] for d in documents}


def _model_dir(dataset: Path, target: Path) -> Path:
    with tarfile.open(dataset / "serving" / "model.tar.gz") as archive:
        archive.extractall(target)
    return target


def _handled(model, body, content_type: str):
    """The handler as the serving container chains it: input_fn -> predict_fn -> output_fn."""
    answer, answer_type = handler.output_fn(handler.predict_fn(handler.input_fn(body, content_type), model), "application/json")
    assert answer_type == "application/x-recordio-protobuf"
    return recordio.read_sparse(io.BytesIO(answer))


OPTIONS = {
    "raw": ["--no-clean-text"],
    "defaults": [],
    "strip-headers": ["--strip-headers"],
    "stop-words-and-phrases": ["--strip-headers", "--stop-words", "launch,engine", "--no-default-stop-words",
                               "--phrases", "--phrase-min-count", "3", "--phrase-threshold", "0.3"],
}


@pytest.fixture(scope="module", params=sorted(OPTIONS))
def prepared(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("parity")
    corpus, texts = _corpus(folder)
    options = OPTIONS[request.param]
    assert prepare.main(["--input", str(corpus), "--output", str(folder / "dataset"), "--workers", "1", "--min-df", "2",
                         "--min-tokens", "1", "--train-shards", "2", *options]) == 0
    model = handler.model_fn(str(_model_dir(folder / "dataset", folder / "model")))
    return folder / "dataset", texts, model


def test_every_kept_document_gets_exactly_its_dataset_row(prepared):
    dataset, texts, model = prepared
    ids = [document["id"] for document in layout.load_documents(dataset)]
    expected = layout.load_corpus_matrix(dataset)
    body = "".join(json.dumps({"text": texts[i]}, ensure_ascii=False) + "\n" for i in ids).encode("utf-8")
    got = _handled(model, body, JSON_LINES)
    assert got.shape == expected.shape
    assert (got != expected).nnz == 0
    assert got.dtype == expected.dtype
    for row, document_id in enumerate(ids):
        assert list(got[row].indices) == list(expected[row].indices), document_id
        assert list(got[row].data) == list(expected[row].data), document_id
    assert {d["id"] for d in TRICKY} <= set(ids)


def test_a_json_request_gives_the_same_rows_as_json_lines(prepared):
    dataset, texts, model = prepared
    chosen = [d["id"] for d in TRICKY]
    as_json = _handled(model, json.dumps({"instances": [{"text": texts[i]} for i in chosen]}), JSON)
    as_lines = _handled(model, "".join(json.dumps({"text": texts[i]}) + "\n" for i in chosen).encode(), JSON_LINES)
    assert (as_json != as_lines).nnz == 0 and as_json.shape[0] == len(chosen)


def test_a_document_without_a_known_word_is_an_empty_row_and_was_dropped_by_the_preparation(prepared):
    dataset, texts, model = prepared
    assert NO_KNOWN_WORD["id"] not in {d["id"] for d in layout.load_documents(dataset)}
    got = _handled(model, json.dumps({"instances": [NO_KNOWN_WORD, TRICKY[0]]}), JSON)
    assert got[0].nnz == 0 and got[1].nnz > 0


def test_the_text_settings_travel_with_the_artifact(prepared):
    dataset, _, model = prepared
    manifest = json.loads((dataset / "manifest.json").read_text())
    assert model.settings.to_json() == manifest["text_settings"]
    if "--phrases" in manifest["options"] or manifest["options"].get("phrases"):
        assert manifest["text_settings"]["phrases"]  # the option set really merges phrases
    assert model.vocabulary == layout.load_vocabulary(dataset)


def test_the_smoke_test_documents_are_the_first_kept_documents_with_their_raw_text(prepared):
    dataset, texts, model = prepared
    smoke = [json.loads(line) for line in (dataset / "serving" / "smoke-test.jsonl").read_text(encoding="utf-8").splitlines()]
    ids = [document["id"] for document in layout.load_documents(dataset)]
    assert [s["row"] for s in smoke] == [0, 1, 2, 3, 4]
    assert [s["id"] for s in smoke] == ids[:5]
    assert all(s["text"] == texts[s["id"]] for s in smoke)
    rows = _handled(model, json.dumps({"instances": [{"text": s["text"]} for s in smoke]}), JSON)
    assert (rows != layout.load_corpus_matrix(dataset)[:5]).nnz == 0

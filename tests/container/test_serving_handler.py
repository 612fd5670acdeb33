"""The preprocessing handler, served by the scikit-learn image's own serving library
(sagemaker-containers 2.8.6.post2: Transformer, Worker, its content types and Accept default) on the
image's Python 3.9 with its pins: `POST /invocations` answers every document with the row the
preparation wrote for it, as sparse RecordIO for NTM."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.container.environments import container_python, sealed_environment
from training.formats import dataset as layout
from training.formats import recordio
from training.preparation import prepare

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parents[1] / "samples" / "sample-news.jsonl"
RECORDIO = "application/x-recordio-protobuf"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    python = container_python("3.9", "serving")
    folder = tmp_path_factory.mktemp("serving")
    assert prepare.main(["--input", str(SAMPLE), "--output", str(folder / "dataset"), "--workers", "1",
                         "--min-df", "2", "--train-shards", "2", "--strip-headers"]) == 0
    model_dir = folder / "opt_ml" / "model"
    with tarfile.open(folder / "dataset" / "serving" / "model.tar.gz") as archive:
        archive.extractall(model_dir)
    texts = {json.loads(line)["id"]: json.loads(line)["text"] for line in SAMPLE.read_text().splitlines()}
    ids = [document["id"] for document in layout.load_documents(folder / "dataset")]
    lines = "".join(json.dumps({"text": texts[i]}) + "\n" for i in ids).encode()
    requests = [
        {"content_type": "application/json", "body": json.dumps({"instances": [{"text": texts[i]} for i in ids]}).encode()},
        {"content_type": "application/jsonlines", "body": lines, "accept": "application/jsonlines"},
        {"content_type": "application/jsonlines", "body": lines, "accept": "*/*"},
        {"content_type": "text/csv", "body": b"1,2,3"},
    ]
    stdin = json.dumps([{**r, "body": base64.b64encode(r["body"]).decode()} for r in requests])
    completed = subprocess.run([str(python), str(HERE / "serve_worker.py"), str(model_dir)], input=stdin,
                               capture_output=True, text=True, cwd=folder, env=sealed_environment({"PATH": "/usr/bin:/bin", "PYTHONPATH": str(model_dir / "code")}),
                               timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    environment, *answers = json.loads(completed.stdout.strip().splitlines()[-1])
    return environment, answers, layout.load_corpus_matrix(folder / "dataset")


def _rows(answer):
    return recordio.read_sparse(io.BytesIO(base64.b64decode(answer["body"])))


def test_the_library_finds_the_entry_script_in_the_artifact(served):
    environment, _, _ = served
    assert environment["python"].startswith("3.9.")
    assert environment["module_name"] == "ntm_text_serving"
    assert environment["module_dir"].endswith("model/code")
    assert environment["default_accept"] == "application/json"


@pytest.mark.parametrize("request_number", [0, 1, 2], ids=["json", "jsonlines", "accept-any"])
def test_invocations_answer_the_dataset_rows_as_recordio(served, request_number):
    _, answers, expected = served
    answer = answers[request_number]
    assert answer["status"] == 200
    assert answer["content_type"] == RECORDIO
    rows = _rows(answer)
    assert rows.shape == expected.shape and (rows != expected).nnz == 0


def test_an_unsupported_content_type_is_a_server_error(served):
    """The library wraps every exception of a user function in its ClientError, which Flask answers
    with 500 (even UnsupportedFormatError: only the library's default functions answer 415)."""
    _, answers, _ = served
    assert answers[3]["status"] == 500

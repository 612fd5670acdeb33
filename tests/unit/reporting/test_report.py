"""The topic report command (training.report) on small synthetic runs with known topics."""

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import boto3
import matplotlib.image
import numpy as np
import pytest
from moto import mock_aws
from scipy import sparse

from training.formats import recordio
from training.formats.ntm_artifact import write_model_tarball
from training.formats.dataset import load_vocabulary
from training.reporting.report import main

TOPIC_WORDS = {
    "fruit": ["apple", "banana", "cherry", "grape", "melon"],
    "space": ["orbit", "rocket", "planet", "comet", "galaxy"],
    "sport": ["goal", "match", "referee", "league", "striker"],
    "music": ["guitar", "chord", "melody", "drum", "tempo"],
}
FILLERS = ["the", "and", "with", "about"]
VOCABULARY = [word for words in TOPIC_WORDS.values() for word in words] + FILLERS
LABELS = list(TOPIC_WORDS)
DOCUMENTS_PER_TOPIC = 10
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def write_lines(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def make_run(root: Path, labels: bool = True) -> dict:
    """A 4-topic model, its dataset (corpus in 2 parts) and its transform output (in 2 files)."""
    rng = np.random.default_rng(3)
    topics = len(TOPIC_WORDS)
    decoder = rng.normal(0, 0.05, size=(len(VOCABULARY), topics)).astype(np.float32)
    for topic, words in enumerate(TOPIC_WORDS.values()):
        for rank, word in enumerate(words):
            decoder[VOCABULARY.index(word), topic] = 4.0 - 0.3 * rank
    write_model_tarball(root / "model.tar.gz", decoder)

    truth = np.repeat(np.arange(topics), DOCUMENTS_PER_TOPIC)
    counts = np.zeros((len(truth), len(VOCABULARY)), dtype=np.float32)
    for row, topic in enumerate(truth):
        chosen = rng.choice(5, size=3, replace=False) + 5 * topic
        counts[row, chosen] = rng.integers(1, 4, size=3)
        counts[row, 20 + row % 4] = 1
    dataset = root / "dataset"
    write_lines(dataset / "auxiliary" / "vocab.txt", VOCABULARY)
    (dataset / "transform").mkdir()
    for part, rows in enumerate((slice(0, 25), slice(25, None))):
        with (dataset / "transform" / f"part-0000{part}.pbr").open("wb") as handle:
            recordio.write_sparse(handle, sparse.csr_matrix(counts[rows]))
    documents = [
        {"id": f"doc-{row}", "title": f"A {LABELS[topic]} story <{row}>", "split": "train",
         **({"label": LABELS[topic]} if labels else {})}
        for row, topic in enumerate(truth)
    ]
    write_lines(dataset / "documents.jsonl", [json.dumps(document) for document in documents])

    weights = rng.dirichlet(np.ones(topics), size=len(truth)) * 0.2
    weights[np.arange(len(truth)), truth] += 0.8
    lines = [json.dumps({"topic_weights": [round(float(w), 6) for w in row]}) for row in weights]
    write_lines(root / "transform" / "part-00000.pbr.out", lines[:25])
    write_lines(root / "transform" / "part-00001.pbr.out", lines[25:])
    return {"truth": truth}


def arguments(root: Path, output: Path, *extra: str) -> list[str]:
    return [
        "--model", str(root / "model.tar.gz"),
        "--dataset", str(root / "dataset"),
        "--transform-output", str(root / "transform"),
        "--output", str(output),
        "--top-words", "5",
        *extra,
    ]


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    root = tmp_path_factory.mktemp("labelled")
    run = make_run(root)
    parameters = json.dumps({"num_topics": 4, "hyperparameters": {"epochs": "100"}})
    assert main(arguments(root, root / "report", "--run-parameters", parameters)) == 0
    return root / "report", run["truth"]


def test_topics_json_holds_the_known_top_words_and_measures(labelled):
    report, _ = labelled
    topics = json.loads((report / "topics.json").read_text())

    assert [[word["word"] for word in topic["words"]] for topic in topics["topics"]] == list(TOPIC_WORDS.values())
    for topic in topics["topics"]:
        weights = [word["weight"] for word in topic["words"]]
        assert weights == sorted(weights, reverse=True) and 0 < weights[-1] < weights[0] < 1
        assert topic["uniqueness"] == 1.0
        assert 0 < topic["coherence_npmi"] <= 1
        assert topic["prevalence"] == pytest.approx(0.25, abs=0.05)
        assert topic["dominant_share"] == 0.25


def test_document_topics_csv_has_every_document_with_its_dominant_topic(labelled):
    report, truth = labelled
    rows = list(csv.DictReader(io.StringIO((report / "document_topics.csv").read_text())))

    assert [row["id"] for row in rows] == [f"doc-{index}" for index in range(len(truth))]
    assert [int(row["dominant_topic"]) for row in rows] == list(truth)
    assert [row["label"] for row in rows] == [LABELS[topic] for topic in truth]
    for row in rows:
        assert sum(float(row[f"topic_{k}"]) for k in range(4)) == pytest.approx(1, abs=1e-5)


def test_plots_are_valid_png_files(labelled):
    report, _ = labelled
    for name in ("tsne.png", "topic_words.png"):
        data = (report / name).read_bytes()
        assert data.startswith(PNG_MAGIC)
        height, width, channels = matplotlib.image.imread(io.BytesIO(data)).shape
        assert height > 100 and width > 300 and channels in (3, 4)


def embedded_data(page: str) -> dict:
    (text,) = re.findall(r"<script type=application/json id=report-data>(.*?)</script>", page, re.S)
    return json.loads(text)


def test_html_is_self_contained_with_every_topic_parameters_and_label_overlap(labelled):
    report, _ = labelled
    page = (report / "report.html").read_text()

    for words in TOPIC_WORDS.values():
        assert " ".join(words) in page
    addresses = page.replace('"http://www.w3.org/2000/svg"', "")  # SVG's namespace name, never fetched
    assert "http://" not in addresses and "https://" not in addresses
    loaded = re.findall(r"<(?:script|img|link)\b[^>]*\b(?:src|href)=['\"]?([^'\" >]+)", page)
    assert all(source.startswith("data:") for source in loaded)  # nothing is loaded from elsewhere
    assert "epochs" in page and "hyperparameters" in page
    assert "Labels vs topics" in page and all(f"<th>{label}</th>" in page for label in LABELS)
    assert "<a href='tsne.png'>" in page  # the pictures lie beside the page, not inside it


def test_the_embedded_report_data_has_every_topic_map_point_and_shown_document(labelled):
    report, truth = labelled
    data = embedded_data((report / "report.html").read_text())
    documents = data["documents"]

    assert [topic["top_words"] for topic in data["topics"]] == list(TOPIC_WORDS.values())
    assert len(data["map"]["documents"]) == len(data["map"]["x"]) == len(truth) == data["map"]["total_documents"]
    assert data["map"]["colour_by"] == "label" and sorted(data["map"]["groups"]) == sorted(LABELS)
    for topic in data["topics"]:
        listed = [documents["row"][position] for position in topic["documents"]]
        assert sorted(listed) == [row for row in range(len(truth)) if truth[row] == topic["topic"]]
        assert set(topic["top_words"]) <= set(topic["terms"])
    assert documents["title"][0] == "A fruit story <0>" and "<0>" not in (report / "report.html").read_text()
    assert documents["top_topics"][0][0] == truth[documents["row"][0]]


def test_the_map_draws_at_most_the_stated_number_of_documents(tmp_path):
    make_run(tmp_path)
    assert main(arguments(tmp_path, tmp_path / "report", "--map-documents", "25")) == 0
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary["map_documents"] == 25 and summary["map_cap"] == 25
    data = embedded_data((tmp_path / "report" / "report.html").read_text())
    assert len(data["map"]["documents"]) == 25 and data["map"]["total_documents"] == 40


def test_run_parameters_show_the_run_s_locations_from_the_environment_not_job_paths(tmp_path, monkeypatch):
    make_run(tmp_path)
    model = "s3://data/runs/r1/model/ntm-train-k4/output/model.tar.gz"
    monkeypatch.setenv("RUN_PARAMETER_RUN_ID", "r1")
    monkeypatch.setenv("RUN_PARAMETER_MODEL", model)
    monkeypatch.setenv("RUN_PARAMETER_DATASET", "s3://data/datasets/r1/")
    monkeypatch.setenv("RUN_PARAMETER_TRANSFORM_OUTPUT", "s3://data/runs/r1/transform/")
    monkeypatch.setenv("RUN_PARAMETER_COMPARISON", "s3://data/runs/r1/comparison/")
    monkeypatch.setenv("RUN_PARAMETER_REPORT_JOB", "ntm-report-r1")
    assert main(arguments(tmp_path, tmp_path / "report", "--run-parameters", '{"num_topics": [4]}')) == 0

    parameters = embedded_data((tmp_path / "report" / "report.html").read_text())["parameters"]
    assert list(parameters)[0] == "run_id" and parameters["run_id"] == "r1"
    assert parameters["model"] == model and parameters["dataset"] == "s3://data/datasets/r1/"
    assert parameters["transform_output"] == "s3://data/runs/r1/transform/" and parameters["report_job"] == "ntm-report-r1"
    assert "comparison" not in parameters  # a single model: nothing was compared
    assert str(tmp_path) not in json.dumps(parameters)


def test_summary_has_the_headline_numbers(labelled):
    report, _ = labelled
    summary = json.loads((report / "summary.json").read_text())

    assert summary["num_topics"] == 4 and summary["documents"] == 40 and summary["vocabulary_size"] == 24
    assert summary["topic_uniqueness"] == 1.0 and 0 < summary["mean_coherence_npmi"] <= 1
    assert summary["labels"] is True and summary["label_purity"] == 1.0
    assert summary["plots"] == ["topic_words.png", "tsne.png"] and summary["plots_skipped"] is None


def test_without_labels_the_report_colours_by_topic_and_has_no_overlap_table(tmp_path):
    make_run(tmp_path, labels=False)
    assert main(arguments(tmp_path, tmp_path / "report")) == 0

    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary["labels"] is False and summary["label_purity"] is None
    assert "Labels vs topics" not in (tmp_path / "report" / "report.html").read_text()
    rows = list(csv.DictReader((tmp_path / "report" / "document_topics.csv").open()))
    assert {row["label"] for row in rows} == {""}
    assert (tmp_path / "report" / "tsne.png").read_bytes().startswith(PNG_MAGIC)


def test_without_matplotlib_everything_but_the_plots_is_written(tmp_path, monkeypatch):
    make_run(tmp_path)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    assert main(arguments(tmp_path, tmp_path / "report")) == 0

    written = sorted(path.name for path in (tmp_path / "report").iterdir())
    assert written == ["document_topics.csv", "report.html", "summary.json", "topics.json"]
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary["plots"] == [] and "matplotlib" in summary["plots_skipped"]
    page = (tmp_path / "report" / "report.html").read_text()
    assert "No PNG pictures: matplotlib is not installed here" in page
    assert len(embedded_data(page)["map"]["documents"]) == 40  # the page's own map needs no matplotlib


def _append_vocabulary(root):
    write_lines(root / "dataset" / "auxiliary" / "vocab.txt", VOCABULARY + ["extra1", "extra2"])


def _drop_transform_lines(root):
    path = root / "transform" / "part-00001.pbr.out"
    write_lines(path, path.read_text().splitlines()[:-3])


def _shorten_topic_weights(root):
    path = root / "transform" / "part-00001.pbr.out"
    lines = path.read_text().splitlines()
    lines[1] = json.dumps({"topic_weights": [0.5, 0.25, 0.25]})
    write_lines(path, lines)


def _add_document(root):
    path = root / "dataset" / "documents.jsonl"
    write_lines(path, path.read_text().splitlines() + [json.dumps({"id": "extra"})])


def _words_as_weights(root):
    path = root / "transform" / "part-00000.pbr.out"
    write_lines(path, [json.dumps({"topic_weights": ["a", "b", "c", "d"]})] + path.read_text().splitlines()[1:])


def _break_json(root):
    path = root / "transform" / "part-00000.pbr.out"
    write_lines(path, ["{not json"] + path.read_text().splitlines()[1:])


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_append_vocabulary, "vocabulary size differs from the model: auxiliary/vocab.txt has 26, "
                             "the decoder (rows) has 24 (differs by 2)"),
        (_drop_transform_lines, "transform output lines differ from documents: the transform output has 37, "
                                "documents.jsonl has 40 (differs by 3)"),
        (_shorten_topic_weights, "at part-00001.pbr.out line 2: the line has 3, the decoder has 4 (differs by 1)"),
        (_add_document, "corpus records differ from documents: transform/part-*.pbr (records) has 40, "
                        "documents.jsonl has 41 (differs by 1)"),
        (_break_json, "part-00000.pbr.out line 1 is not JSON"),
        (_words_as_weights, "are not all numbers"),
        (lambda root: write_lines(root / "dataset" / "documents.jsonl", []), "documents.jsonl lists no documents"),
        (lambda root: (root / "dataset" / "auxiliary" / "vocab.txt").unlink(), "vocabulary not found"),
        (lambda root: (root / "model.tar.gz").write_bytes(b"oops"), "the model is not a tar archive"),
    ],
)
def test_mismatched_inputs_fail_with_a_message_saying_which_and_by_how_much(tmp_path, capsys, damage, message):
    make_run(tmp_path)
    damage(tmp_path)

    assert main(arguments(tmp_path, tmp_path / "report")) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "report").exists()


def test_vocabulary_lines_end_only_at_newlines(tmp_path):
    write_lines(tmp_path / "auxiliary" / "vocab.txt", ["caf\u00e9", "line\u2028separator", "crlf\r"])

    assert load_vocabulary(tmp_path) == ["caf\u00e9", "line\u2028separator", "crlf"]


def test_run_parameters_must_be_a_json_object(tmp_path, capsys):
    make_run(tmp_path)

    assert main(arguments(tmp_path, tmp_path / "report", "--run-parameters", "[1, 2]")) == 2
    assert "run parameters must be a JSON object" in capsys.readouterr().err


def test_fewer_than_two_top_words_are_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(arguments(tmp_path, tmp_path / "report", "--top-words", "1"))

    assert exit_info.value.code == 2
    assert "argument --top-words: '1' is not a whole number >= 2" in capsys.readouterr().err


def test_the_module_runs_as_a_command_and_fails_without_a_traceback(tmp_path):
    make_run(tmp_path)
    _drop_transform_lines(tmp_path)

    result = subprocess.run(
        [sys.executable, "-m", "training.report", *arguments(tmp_path, tmp_path / "report")],
        capture_output=True, text=True, check=False,
    )

    assert result.returncode == 2
    assert "differs by 3" in result.stderr and "Traceback" not in result.stderr


@pytest.fixture
def s3(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket="data")
        yield client


def test_reads_inputs_from_and_writes_the_report_to_s3(tmp_path, s3):
    make_run(tmp_path)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            s3.upload_file(str(path), "data", f"runs/r1/{path.relative_to(tmp_path).as_posix()}")
    s3.put_object(Bucket="data", Key="runs/r1/parameters.json", Body=b'{"run_id": "r1"}')
    s3.put_object(Bucket="data", Key="runs/r1/dataset/train/part-00000.pbr", Body=b"not read")

    assert main([
        "--model", "s3://data/runs/r1/model.tar.gz",
        "--dataset", "s3://data/runs/r1/dataset",
        "--transform-output", "s3://data/runs/r1/transform/",
        "--output", "s3://data/runs/r1/report",
        "--run-parameters", "s3://data/runs/r1/parameters.json",
    ]) == 0

    listed = s3.list_objects_v2(Bucket="data", Prefix="runs/r1/report/")["Contents"]
    assert sorted(item["Key"].rsplit("/", 1)[1] for item in listed) == [
        "document_topics.csv", "report.html", "summary.json", "topic_words.png", "topics.json", "tsne.png",
    ]
    page = s3.get_object(Bucket="data", Key="runs/r1/report/report.html")
    assert page["ContentType"] == "text/html"
    assert "<th>run_id</th><td><code>r1</code></td>" in page["Body"].read().decode()  # from parameters.json
    summary = json.loads(s3.get_object(Bucket="data", Key="runs/r1/report/summary.json")["Body"].read())
    assert summary["documents"] == 40


def test_a_missing_s3_input_is_reported(tmp_path, s3, capsys):
    make_run(tmp_path)

    code = main(arguments(tmp_path, tmp_path / "report")[:4] + ["--transform-output", "s3://data/nothing/here"]
                + ["--output", str(tmp_path / "report")])

    assert code == 2
    assert "nothing found at s3://data/nothing/here" in capsys.readouterr().err


SWEEP_COMPARISON = {
    "format_version": 1, "rule": "combined",
    "candidates": [
        {"num_topics": 4, "job_name": "k4", "status": "Trained", "validation_loss": 7.1, "coherence": 0.52,
         "uniqueness": 1.0, "combined_score": 0.92, "rank": 1},
        {"num_topics": 8, "job_name": "k8", "status": "Failed", "validation_loss": None, "coherence": None,
         "uniqueness": None, "combined_score": None, "rank": None},
    ],
    "chosen": {"num_topics": 4, "job_name": "k4", "model_artifacts": "k4/output/model.tar.gz"},
    "why": "4 topics had the best combined score (0.92)", "plot": None, "plot_skipped": "no matplotlib",
}


def test_a_sweep_report_shows_the_comparison_and_why_the_number_won(tmp_path):
    make_run(tmp_path)
    (tmp_path / "comparison.json").write_text(json.dumps(SWEEP_COMPARISON))
    assert main(arguments(tmp_path, tmp_path / "report", "--comparison", str(tmp_path / "comparison.json"))) == 0
    page = (tmp_path / "report" / "report.html").read_text()
    assert "Choosing the number of topics" in page and "4 topics had the best combined score (0.92)" in page
    assert "<tr class=chosen><td class=number>4</td>" in page and "Failed" in page
    comparison = embedded_data(page)["comparison"]
    assert comparison["chosen"] == 4 and [c["trained"] for c in comparison["candidates"]] == [True, False]
    assert "data-section=comparison-chart" in page
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary["num_topics_chosen_because"] == SWEEP_COMPARISON["why"]


def test_a_comparison_on_s3_is_shown(tmp_path, s3, monkeypatch):
    make_run(tmp_path)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # the report's own plots are not under test here
    s3.put_object(Bucket="data", Key="runs/r1/comparison/comparison.json", Body=json.dumps(SWEEP_COMPARISON).encode())

    comparison_uri = "s3://data/runs/r1/comparison/comparison.json"
    assert main(arguments(tmp_path, tmp_path / "report", "--comparison", comparison_uri)) == 0

    page = (tmp_path / "report" / "report.html").read_text()
    assert "4 topics had the best combined score (0.92)" in page
    assert embedded_data(page)["comparison"]["chosen"] == 4


def test_a_comparison_that_is_not_one_fails_clearly(tmp_path, capsys):
    make_run(tmp_path)
    (tmp_path / "comparison.json").write_text(json.dumps({"candidates": []}))
    assert main(arguments(tmp_path, tmp_path / "report", "--comparison", str(tmp_path / "comparison.json"))) == 2
    assert "is not a comparison written by training.compare" in capsys.readouterr().err


def test_a_comparison_path_that_is_a_folder_fails_clearly(tmp_path, capsys):
    make_run(tmp_path)
    (tmp_path / "comparison").mkdir()
    assert main(arguments(tmp_path, tmp_path / "report", "--comparison", str(tmp_path / "comparison"))) == 2
    assert "comparison is a folder, not a file" in capsys.readouterr().err

"""The report's "Similar documents" section, from the similarity stage's neighbours.jsonl."""

from __future__ import annotations

import json

from tests.unit.reporting.test_report import arguments, embedded_data, make_run
from training.reporting.report import main


def test_each_topics_example_documents_show_their_neighbours_titles_distances_and_the_files_location(tmp_path, monkeypatch):
    make_run(tmp_path)
    documents = [json.loads(line) for line in (tmp_path / "dataset" / "documents.jsonl").read_text().splitlines()]
    # Every document's neighbours: the next two documents, distances 0.01 and 0.02.
    lines = [{"id": d["id"], "neighbours": [{"id": documents[(row + step) % len(documents)]["id"], "distance": step / 100}
                                            for step in (1, 2)]} for row, d in enumerate(documents)]
    (tmp_path / "neighbours.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    location = "s3://data/runs/r/similar/neighbours.jsonl"
    monkeypatch.setenv("RUN_PARAMETER_SIMILAR_DOCUMENTS", location)
    assert main(arguments(tmp_path, tmp_path / "report", "--neighbours", str(tmp_path / "neighbours.jsonl"))) == 0
    page = (tmp_path / "report" / "report.html").read_text()
    similar = embedded_data(page)["similar"]
    assert similar["location"] == location and location in page
    assert [entry["topic"] for entry in similar["topics"]] == [0, 1, 2, 3]
    titles = {d["id"]: d["title"] for d in documents}
    for entry in similar["topics"]:
        assert len(entry["examples"]) == similar["per_topic"] == 3
        for example in entry["examples"]:
            row = [d["id"] for d in documents].index(example["id"])
            expected = [documents[(row + step) % len(documents)]["id"] for step in (1, 2)]
            assert [n["id"] for n in example["neighbours"]] == expected
            assert [n["title"] for n in example["neighbours"]] == [titles[i] for i in expected]
            assert [n["distance"] for n in example["neighbours"]] == [0.01, 0.02]
    first = similar["topics"][0]["examples"][0]["neighbours"][0]
    assert "A fruit story &lt;" in page and f"({first['distance']:.4f})" in page
    assert "REPORT.register(\"similar-documents\"" in page and "data-section=similar-documents" in page


def test_a_run_without_the_stage_says_so(tmp_path):
    make_run(tmp_path)
    assert main(arguments(tmp_path, tmp_path / "report", "--neighbours", str(tmp_path / "absent" / "neighbours.jsonl"))) == 0
    page = (tmp_path / "report" / "report.html").read_text()
    assert embedded_data(page)["similar"] is None
    assert "Not computed for this run" in page

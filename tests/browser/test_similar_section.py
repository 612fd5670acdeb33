"""The report's "Similar documents" view in headless Chromium: it follows the selected topic."""

from __future__ import annotations

import json

from selenium.webdriver.common.by import By

from tests.browser.report_page import ReportFiles, console_errors, open_report
from tests.unit.reporting.test_report import arguments, make_run
from training.reporting.report import main


def test_selecting_a_topic_shows_its_documents_and_their_neighbours(chromium, tmp_path):
    make_run(tmp_path)
    documents = [json.loads(line) for line in (tmp_path / "dataset" / "documents.jsonl").read_text().splitlines()]
    lines = [{"id": d["id"], "neighbours": [{"id": documents[(row + 1) % len(documents)]["id"], "distance": 0.25}]}
             for row, d in enumerate(documents)]
    (tmp_path / "neighbours.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert main(arguments(tmp_path, tmp_path / "report", "--neighbours", str(tmp_path / "neighbours.jsonl"))) == 0
    open_report(chromium, ReportFiles(tmp_path / "report", documents))
    chromium.execute_script("REPORT.selectTopic(2)")
    items = chromium.find_elements(By.CSS_SELECTOR, "#similar-list > li")
    assert len(items) == 3
    row = [d["id"] for d in documents].index(items[0].get_attribute("data-document-id"))
    assert documents[(row + 1) % len(documents)]["title"] in items[0].text and "distance 0.2500" in items[0].text
    assert "Topic 2" in chromium.find_element(By.CSS_SELECTOR, "[data-section=similar-documents] p").text
    assert console_errors(chromium) == []

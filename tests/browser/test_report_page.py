"""The topic report in headless Chromium: opened from a file URL, with no network."""

from __future__ import annotations

import json

from selenium.webdriver.common.by import By

from tests.browser.report_page import (
    ReportFiles,
    check_comparison_chart,
    check_report_page,
    console_errors,
    open_report,
)
from tests.unit.reporting.test_report import SWEEP_COMPARISON, arguments, make_run
from training.reporting.report import main


def report_files(root, *extra: str) -> ReportFiles:
    make_run(root)
    assert main(arguments(root, root / "report", *extra)) == 0
    lines = (root / "dataset" / "documents.jsonl").read_text(encoding="utf-8").splitlines()
    return ReportFiles(root / "report", [json.loads(line) for line in lines])


def test_the_map_hover_topic_selection_and_console_of_a_report(chromium, tmp_path):
    check_report_page(chromium, report_files(tmp_path))


def test_a_capped_map_draws_the_stated_number_of_points(chromium, tmp_path):
    files = report_files(tmp_path, "--map-documents", "25")
    open_report(chromium, files)
    assert len(chromium.find_elements(By.CSS_SELECTOR, "#document-map .doc-point")) == 25
    assert "25 of 40 documents drawn" in chromium.find_element(By.ID, "map-caption").text
    assert console_errors(chromium) == []


def test_a_sweep_s_comparison_is_an_interactive_chart(chromium, tmp_path):
    (tmp_path / "comparison.json").write_text(json.dumps(SWEEP_COMPARISON))
    check_comparison_chart(chromium, report_files(tmp_path, "--comparison", str(tmp_path / "comparison.json")), 4)

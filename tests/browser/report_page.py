"""What every topic report page must do in a real browser, checked against the report's own files.

The expectations come from the files written beside report.html and from the dataset, never from
the page's embedded data: the drawn points from summary.json's map size, a hovered document's
title from documents.jsonl, a topic's documents from document_topics.csv.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

REPRESENTATIVE_DOCUMENTS = 10


@dataclass(frozen=True)
class ReportFiles:
    folder: Path  # report.html, summary.json, topics.json, document_topics.csv
    documents: list[dict]  # documents.jsonl of the dataset, in order

    def json(self, name: str) -> dict:
        return json.loads((self.folder / name).read_text(encoding="utf-8"))

    def topic_shares(self, topic: int) -> dict[str, float]:
        """Each document's share of `topic` (its weight over its total), by id, from document_topics.csv."""
        with (self.folder / "document_topics.csv").open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        weights = np.array([[float(value) for key, value in row.items() if key.startswith("topic_")] for row in rows])
        shares = weights[:, topic] / weights.sum(axis=1)
        return {row["id"]: float(share) for row, share in zip(rows, shares)}


def console_errors(driver) -> list[dict]:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def open_report(driver, files: ReportFiles) -> None:
    driver.get_log("browser")  # drop what an earlier page logged
    driver.get((files.folder / "report.html").as_uri())
    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return !!window.REPORT"))


def check_map_points(driver, files: ReportFiles) -> None:
    summary = files.json("summary.json")
    expected = min(summary["documents"], summary["map_cap"])
    assert summary["map_documents"] == expected
    points = driver.find_elements(By.CSS_SELECTOR, "#document-map .doc-point")
    assert len(points) == expected
    caption = driver.find_element(By.ID, "map-caption").text
    assert str(expected) in caption and (expected == summary["documents"] or str(summary["documents"]) in caption)


def check_hover_shows_title(driver, files: ReportFiles) -> None:
    point = driver.find_elements(By.CSS_SELECTOR, "#document-map .doc-point")[-1]  # drawn last: on top
    row = driver.execute_script("return REPORT.data.documents.row[Number(arguments[0].getAttribute('data-document'))]",
                                point)
    document = files.documents[row]
    ActionChains(driver).move_to_element(point).perform()
    tooltip = driver.find_element(By.ID, "tooltip")
    WebDriverWait(driver, 5).until(lambda _: tooltip.is_displayed())
    assert document["title"] and document["title"] in tooltip.text
    assert str(document["id"]) in tooltip.text


def select_topic(driver, topic: int) -> list[str]:
    """Click the topic on the intertopic map; returns the document lines then listed."""
    driver.find_element(By.CSS_SELECTOR, f"#intertopic-map .topic-bubble[data-topic='{topic}']").click()
    return [item.text for item in driver.find_elements(By.CSS_SELECTOR, "#topic-documents li")]


def check_topic_selection(driver, files: ReportFiles) -> int:
    assert driver.find_elements(By.CSS_SELECTOR, "#topic-documents li") == []
    # The smallest bubble is drawn last, so nothing covers it.
    topic = int(driver.find_elements(By.CSS_SELECTOR, "#intertopic-map .topic-bubble")[-1].get_attribute("data-topic"))
    listed = select_topic(driver, topic)
    assert len(listed) == min(REPRESENTATIVE_DOCUMENTS, len(files.documents))
    shares = files.topic_shares(topic)
    titles = {str(d["id"]): d.get("title", "") for d in files.documents}
    listed_ids = [driver.execute_script("return REPORT.data.documents.id[Number(arguments[0].getAttribute('data-document'))]", item)
                  for item in driver.find_elements(By.CSS_SELECTOR, "#topic-documents li")]
    for line, document_id in zip(listed, listed_ids):
        assert f"id {document_id}" in line and titles[document_id] in line
    # The listed documents hold the largest shares, largest first (the CSV's 6 digits allow near-ties).
    listed_shares = [shares[document_id] for document_id in listed_ids]
    assert all(a >= b - 1e-5 for a, b in zip(listed_shares, listed_shares[1:]))
    others = [share for document_id, share in shares.items() if document_id not in listed_ids]
    assert not others or min(listed_shares) >= max(others) - 1e-5
    # lambda = 1 ranks words by P(word | topic): the topic's own top word comes first.
    driver.find_element(By.ID, "lambda").send_keys(Keys.END)
    first_word = driver.find_elements(By.CSS_SELECTOR, "#topic-words .word-bar")[0].get_attribute("data-word")
    assert first_word == files.json("topics.json")["topics"][topic]["words"][0]["word"]
    return topic


def check_report_page(driver, files: ReportFiles) -> None:
    open_report(driver, files)
    check_map_points(driver, files)
    check_hover_shows_title(driver, files)
    check_topic_selection(driver, files)
    assert console_errors(driver) == []
    if os.environ.get(SCREENSHOT_VARIABLE):
        save_screenshot(driver, files, Path(os.environ[SCREENSHOT_VARIABLE]))


def check_comparison_chart(driver, files: ReportFiles, chosen: int) -> None:
    open_report(driver, files)
    charts = driver.find_elements(By.CSS_SELECTOR, "#comparison .comparison-chart")
    assert [chart.get_attribute("data-measure") for chart in charts] == [
        "validation_loss", "coherence", "uniqueness", "combined_score"]
    point = driver.find_element(By.CSS_SELECTOR, "#comparison .measure-point.chosen")
    assert point.get_attribute("data-num-topics") == str(chosen)
    ActionChains(driver).move_to_element(point).perform()
    tooltip = driver.find_element(By.ID, "tooltip")
    WebDriverWait(driver, 5).until(lambda _: tooltip.is_displayed())
    assert f"{chosen} topics (chosen)" in tooltip.text
    assert console_errors(driver) == []


def downloaded_report(stack, outputs: dict, folder: Path) -> ReportFiles:
    """A pipeline run's report folder and its dataset's documents, copied from the emulated bucket."""
    run_prefix = outputs["run"].split("/", 3)[3]
    for key in stack.keys(run_prefix + "report/"):
        target = folder / key[len(run_prefix):]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(stack.object(f"s3://{stack.data_bucket}/{key}"))
    lines = stack.object(outputs["dataset"] + "documents.jsonl").decode("utf-8").splitlines()
    return ReportFiles(folder / "report", [json.loads(line) for line in lines])


# `make screenshot` sets it: the page test of the dry run's report then saves docs/report.png.
SCREENSHOT_VARIABLE = "REPORT_SCREENSHOT"


def save_screenshot(driver, files: ReportFiles, path: Path) -> None:
    """The document map and the topic explorer, one topic selected and one document hovered."""
    driver.set_window_size(1300, 1000)
    open_report(driver, files)
    topics = files.json("topics.json")["topics"]
    largest = max(topics, key=lambda topic: topic["prevalence"])["topic"]
    driver.execute_script("REPORT.selectTopic(arguments[0]);"
                          "document.getElementById('documents').scrollIntoView();", largest)
    height = driver.execute_script("var t = document.getElementById('topics-table');"
                                   "return t.getBoundingClientRect().top + window.scrollY - "
                                   "document.getElementById('documents').getBoundingClientRect().top - window.scrollY;")
    driver.set_window_size(1300, int(height) + 140)
    driver.execute_script("document.getElementById('documents').scrollIntoView();")
    point = driver.find_elements(By.CSS_SELECTOR, "#document-map .doc-point:not(.faded)")[-1]
    ActionChains(driver).move_to_element(point).perform()
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))
    driver.set_window_size(1300, 1000)

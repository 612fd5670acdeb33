"""Headless Chromium from Debian's packages, driven by selenium: the browser the page tests use.

Never a downloaded browser: selenium is pointed at /usr/bin/chromium and /usr/bin/chromedriver
(packages `chromium` and `chromium-driver`, which .ci/run installs). Without them a local run skips
the page tests, naming the packages; in CI (CI=true) it fails instead.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--window-size=1300,1000")


def _missing() -> str | None:
    absent = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if not absent:
        return None
    return (f"headless Chromium is not installed ({', '.join(absent)} missing): "
            f"apt-get install chromium chromium-driver")


@pytest.fixture(scope="session")
def chromium() -> Iterator:
    """A selenium WebDriver on headless Chromium, with the browser console log kept."""
    missing = _missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{missing} (.ci/run installs them)")
        pytest.skip(missing)
    os.environ["SE_OFFLINE"] = "true"  # selenium's driver manager must never fetch a browser or driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)

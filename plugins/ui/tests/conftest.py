"""One project for the whole session (the quickstart run, a gated run), one `flowyml ui` server, one browser."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from ui_support import CHROMEDRIVER, CHROMIUM, FLOWYML, UiProject, UiServer, free_port


@pytest.fixture(scope="session")
def ui_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiProject]:
    project = UiProject(tmp_path_factory.mktemp("ui-project"))
    yield project
    # a deployment a test made must not outlive the session
    listed = subprocess.run([str(FLOWYML), "model", "endpoints", "--stack", "approval"], cwd=project.path, capture_output=True, text=True)
    if "approval-demo" in listed.stdout:
        subprocess.run([str(FLOWYML), "model", "undeploy", "approval-demo", "--stack", "approval"], cwd=project.path, capture_output=True, text=True)


@pytest.fixture(scope="session")
def ui_server(ui_project: UiProject) -> Iterator[UiServer]:
    server = UiServer(ui_project.path, "--port", str(free_port()))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Debian Chromium through its chromedriver; in CI it must start, elsewhere it may skip."""
    in_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as exc:
        if in_ci:
            raise
        pytest.skip(f"selenium is not installed ({exc}): pip install -r requirements/plugin-ui.txt")
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    if missing:
        if in_ci:
            pytest.fail(f"Chromium is needed for the browser tests in CI, missing: {missing} (apt-get install chromium chromium-driver)")
        pytest.skip(f"no Chromium here ({', '.join(missing)} missing): apt-get install chromium chromium-driver")
    profile = Path(os.environ.get("TMPDIR", "/tmp")) / f"flowyml-ui-chromium-{os.getpid()}"
    shutil.rmtree(profile, ignore_errors=True)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1280,900",
    ):
        options.add_argument(flag)
    try:
        driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    except Exception as exc:
        if in_ci:
            pytest.fail(f"Chromium could not start in CI: {type(exc).__name__}: {exc}")
        pytest.skip(f"Chromium could not start here: {type(exc).__name__}: {exc}")
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)

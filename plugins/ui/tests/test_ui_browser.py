"""The dashboard in a real browser: Debian's Chromium, headless, driving `flowyml ui` run as a subprocess."""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from ui_extras_pipeline import EVIL
from ui_support import TRACKER_FOLDER, TRACKER_PAGE, TRACKER_SCRIPT_URL

pytestmark = pytest.mark.usefixtures("ui_server")


def wait(browser: Any, css: str, timeout: float = 30) -> Any:
    return WebDriverWait(browser, timeout).until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))


def test_the_run_is_listed_and_its_graph_has_the_steps_and_edges(browser, ui_server, ui_project) -> None:
    browser.get(ui_server.url)
    link = wait(browser, f'tr[data-run="{ui_project.quickstart_run}"] a')
    link.click()
    wait(browser, "svg#dag")
    steps = {n.get_attribute("data-step") for n in browser.find_elements(By.CSS_SELECTOR, "svg#dag a.node")}
    assert steps == {"load_data", "preprocess", "hyperparameters", "train_model", "evaluate"}
    edges = {(e.get_attribute("data-source"), e.get_attribute("data-target")) for e in browser.find_elements(By.CSS_SELECTOR, "svg#dag g.edge")}
    assert edges == {
        ("load_data", "preprocess"), ("preprocess", "train_model"), ("hyperparameters", "train_model"),
        ("train_model", "evaluate"), ("preprocess", "evaluate"),
    }


def test_clicking_a_step_opens_its_artifact_with_a_dataframe_preview(browser, ui_server, ui_project) -> None:
    browser.get(f"{ui_server.url}runs/{ui_project.quickstart_run}")
    wait(browser, 'svg#dag a.node[data-step="load_data"] rect').click()
    wait(browser, "a.artifact-link").click()
    table = wait(browser, "table#preview")
    header = [th.text for th in table.find_elements(By.CSS_SELECTOR, "tr:first-child th")]
    assert any(h.startswith("mean radius") for h in header) and any("double" in h for h in header)
    assert len(table.find_elements(By.CSS_SELECTOR, "tr")) == 11  # the header and the first 10 rows
    assert "569 rows x 31 columns" in browser.find_element(By.ID, "shape").text


def test_the_metrics_chart_draws(browser, ui_server, ui_project) -> None:
    browser.get(f"{ui_server.url}runs/{ui_project.extras_run}/metrics")
    canvas = wait(browser, ".chart canvas")
    chart = browser.find_element(By.CSS_SELECTOR, '.chart[data-key="loss"]')
    assert chart.get_attribute("data-points") == "4"
    assert int(canvas.get_attribute("width")) > 100
    # the canvas is not blank: some pixels were painted
    painted = browser.execute_script(
        "var c = arguments[0]; var d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        "var n = 0; for (var i = 3; i < d.length; i += 4) { if (d[i] > 0) { n++; } } return n;",
        chart.find_element(By.CSS_SELECTOR, "canvas"),
    )
    assert painted > 100


def test_an_on_approval_version_is_approved_with_the_button_and_then_served(browser, ui_server) -> None:
    browser.get(f"{ui_server.url}models/approval_demo?stack=approval")
    row = wait(browser, 'tr[data-version="1"]')
    assert "pending_approval" in row.text
    row.find_element(By.CSS_SELECTOR, 'button[name="approve"]').click()
    wait(browser, "#confirm").click()  # the confirmation page
    done = wait(browser, "#done").text
    assert done.startswith("approved approval_demo 1; deployed at http://127.0.0.1:"), done
    url = re.search(r"(http://127\.0\.0\.1:\d+)", done).group(1)
    with urllib.request.urlopen(f"{url}/health", timeout=30) as answer:
        assert answer.status == 200 and json.loads(answer.read())
    row = wait(browser, 'tr[data-version="1"]')
    assert "approved" in row.text and "approval-demo" in row.text
    row.find_element(By.CSS_SELECTOR, 'button[name="undeploy"]').click()
    wait(browser, "#confirm").click()
    assert wait(browser, "#done").text == "undeployed approval-demo"


def test_a_markup_step_name_stays_text(browser, ui_server, ui_project) -> None:
    browser.get(f"{ui_server.url}runs/{ui_project.extras_run}")
    wait(browser, "svg#dag")
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 - the script did not run
    names = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "table#steps td:first-child a")]
    assert EVIL in names  # shown as the literal text
    assert not browser.find_elements(By.CSS_SELECTOR, "main script")
    browser.find_element(By.LINK_TEXT, EVIL).click()
    assert EVIL in wait(browser, "h1").text


def test_the_run_page_links_to_the_tracker_run(browser, ui_server, ui_project) -> None:
    browser.get(f"{ui_server.url}runs/{ui_project.extras_run}")
    mlflow = wait(browser, 'dd.tracker-link[data-tracker="mlflow"] a')
    assert mlflow.get_attribute("href") == TRACKER_PAGE and mlflow.text == TRACKER_PAGE
    folder = browser.find_element(By.CSS_SELECTOR, 'dd.tracker-link[data-tracker="tensorboard"]')
    assert folder.text == TRACKER_FOLDER and not folder.find_elements(By.TAG_NAME, "a")  # a folder: text, markup and all
    script = browser.find_element(By.CSS_SELECTOR, 'dd.tracker-link[data-tracker="custom"]')
    assert script.text == TRACKER_SCRIPT_URL and not script.find_elements(By.TAG_NAME, "a")

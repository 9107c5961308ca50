"""The playground page (GET /ui; a browser's GET / lands there) in a real headless Chromium, driven by Selenium: type, submit, read
the bars, and check them against the API's own answer. `make test` installs Debian's chromium and
chromium-driver on a fresh machine; elsewhere the test says what is missing."""

from __future__ import annotations

import os
import re
import shutil
from contextlib import contextmanager
from dataclasses import replace

import httpx
import pytest

pytest.importorskip("fastapi")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (it is in the dev extra)")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402
from test_server import running, wait_ready  # noqa: E402

from zsc.engine.server.config import ServerConfig  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
if not (CHROMIUM and DRIVER):
    pytest.skip("no Chromium here: install Debian's chromium and chromium-driver (make test does on a fresh machine)",
                allow_module_level=True)

TEXT = "Hi, I recently bought a device from your company but it is not working as advertised and I would like to get reimbursed!"
LABELS = ["refund", "legal", "faq"]
TOKEN = "playground-secret"


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=860,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def config(tiny_exported, default_model_dir) -> ServerConfig:
    return ServerConfig(models={"minilm": default_model_dir, "tiny": tiny_exported("bert")})


@contextmanager
def served(config: ServerConfig):
    with running(config) as base:
        wait_ready(base, headers={"Authorization": f"Bearer {TOKEN}"} if config.tokens else None)
        yield base


def bars(browser) -> list[tuple[str, float, str]]:
    """(label, score, bar width) of each bar, top to bottom, once the results have come."""
    WebDriverWait(browser, 30).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "#results .bar-row")))
    rows = browser.find_elements(By.CSS_SELECTOR, "#results .bar-row")
    return [(row.get_attribute("data-label"), float(row.get_attribute("data-score")),
             row.find_element(By.CSS_SELECTOR, ".bar").get_attribute("style")) for row in rows]


def fill(browser, text: str, labels: str, multi_label: bool = False) -> None:
    browser.find_element(By.ID, "text").send_keys(text)
    browser.find_element(By.ID, "labels").send_keys(labels)
    if multi_label:
        browser.find_element(By.ID, "multi").click()
    browser.find_element(By.ID, "submit").click()


def test_the_page_classifies_through_the_api_and_draws_its_scores(browser, config):
    with served(config) as base:
        browser.get(base + "/")  # a browser asks for HTML: redirected to /ui
        assert browser.title == "zsc playground" and browser.current_url == base + "/ui"
        picker = Select(browser.find_element(By.ID, "model"))
        assert browser.find_element(By.ID, "model-field").is_displayed()  # two models served: a picker
        assert [o.text for o in picker.options] == ["minilm", "tiny"]
        picker.select_by_visible_text("minilm")
        assert browser.find_element(By.ID, "template").get_attribute("value") == "This example is {}."
        assert not browser.find_element(By.ID, "token-field").is_displayed()  # no tokens: no token field
        fill(browser, TEXT, ", ".join(LABELS), multi_label=True)
        shown = bars(browser)
        body = {"inputs": TEXT, "parameters": {"candidate_labels": LABELS, "hypothesis_template": "This example is {}.",
                                               "multi_label": True}}
        answer = httpx.post(base + "/models/minilm", json=body, timeout=60).json()
        assert [(label, score) for label, score, _ in shown] == [(p["label"], p["score"]) for p in answer]
        for (_, score, style) in shown:  # each bar is as wide as its score
            assert float(re.search(r"width: ([\d.]+)%", style).group(1)) == pytest.approx(100 * score, abs=0.06)
        browser.find_element(By.ID, "request-details").click()
        assert eval_json(browser.find_element(By.ID, "request").text.split("\n", 1)[1]) == body  # the exact request sent
        curl = browser.find_element(By.ID, "curl").text
        assert curl.startswith(f"curl -X POST '{base}/models/minilm'") and '"multi_label":true' in curl
        if os.environ.get("ZSC_SCREENSHOT"):  # make screenshot: the README's picture
            browser.save_screenshot(os.environ["ZSC_SCREENSHOT"])


def eval_json(text: str) -> object:
    import json

    return json.loads(text)


def test_bad_input_shows_the_servers_400_message(browser, config):
    with served(config) as base:
        browser.get(base + "/ui")
        fill(browser, TEXT, " , ")
        error = WebDriverWait(browser, 30).until(lambda b: b.find_element(By.ID, "error").text)
        assert error.startswith("400: ") and "at least one label" in error
        assert not browser.find_elements(By.CSS_SELECTOR, "#results .bar-row")


def test_with_tokens_the_page_asks_for_one_and_sends_it(browser, config):
    with served(replace(config, tokens=frozenset({TOKEN}))) as base:
        page = httpx.get(base + "/ui").text
        assert "minilm" not in page  # model ids are for token holders
        browser.get(base + "/ui")
        assert browser.find_element(By.ID, "token-field").is_displayed()
        fill(browser, TEXT, ",".join(LABELS))
        error = WebDriverWait(browser, 30).until(lambda b: b.find_element(By.ID, "error").text)
        assert error.startswith("401: ")
        token = browser.find_element(By.ID, "token")
        token.send_keys(TOKEN)
        browser.find_element(By.ID, "text").click()  # leaving the field fires change: the models load with the token
        WebDriverWait(browser, 30).until(lambda b: len(Select(b.find_element(By.ID, "model")).options) == 2)
        browser.find_element(By.ID, "submit").click()
        assert [label for label, _, _ in bars(browser)][0] in LABELS
        assert "Bearer $ZSC_TOKEN" in browser.find_element(By.ID, "curl").get_attribute("textContent")  # never the token itself
        assert TOKEN not in browser.find_element(By.ID, "curl").get_attribute("textContent")


def test_the_page_is_self_contained_and_get_root_stays_a_405_for_api_clients(config):
    with served(config) as base:
        page = httpx.get(base + "/ui")
        api_client = httpx.get(base + "/")
        browser_like = httpx.get(base + "/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert api_client.status_code == 405 and api_client.headers["allow"] == "POST" and "error" in api_client.json()
    assert browser_like.status_code == 307 and browser_like.headers["location"] == "/ui"
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", page.text)  # no CDN, nothing fetched but the API
    assert "/*ZSC_CONFIG*/" not in page.text


def test_no_playground_serves_no_page(config):
    with served(replace(config, playground=False)) as base:
        assert httpx.get(base + "/ui").status_code == 404
        browser_like = httpx.get(base + "/", headers={"Accept": "text/html"})
        assert browser_like.status_code == 405 and browser_like.headers["allow"] == "POST"  # no redirect to a missing page

"""The dashboard in a real browser: headless Debian chromium driven by python3-selenium against a
real `moray start --head` cluster. Logs in through the login page, opens every page, sees a task
and an actor the test runs appear, pages through the task records, opens the actor's log from the
actors page and sees a new line followed, and sees the charts drawn from samples. The default run loads 10,050 task records and pages past the 10,000th (about 30 s);
MORAY_DASHBOARD_LONG=1 (`make test-browser`) loads 50,000 and pages to the end."""

import os
import shutil
import tempfile

import moray
import pytest

from conftest import TOKEN, wait_for

LONG = os.environ.get("MORAY_DASHBOARD_LONG") == "1"
CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.common.exceptions import (NoSuchElementException,
                                            StaleElementReferenceException)
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
except ImportError:
    webdriver = None

if webdriver is None or not CHROMIUM or not CHROMEDRIVER:
    pytest.skip("SKIPPED: the browser tests need Debian's chromium, chromium-driver and "
                "python3-selenium (scripts/install-deps.sh installs them)", allow_module_level=True)

NUM_TASKS = 50_000 if LONG else 10_050


@moray.remote
def browser_probe(x):
    return x


@moray.remote
def tiny(x):
    return x


@moray.remote
class BrowserActor:
    def ping(self):
        print("browser actor says hello", flush=True)
        return "pong"


@pytest.fixture(scope="module")
def browser():
    profile = tempfile.mkdtemp(prefix="moray-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                "--window-size=1400,1000", f"--user-data-dir={profile}"]:
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def work(cluster):
    moray.init(address=cluster.gcs)
    assert moray.get(browser_probe.remote(7)) == 7
    actor = BrowserActor.remote()
    assert moray.get(actor.ping.remote()) == "pong"
    batch = 2000
    for start in range(0, NUM_TASKS, batch):
        moray.get([tiny.remote(i) for i in range(start, min(NUM_TASKS, start + batch))])
    yield actor
    moray.shutdown()


def text_of(browser, element_id):
    """The element's text; "" while the page (re)loads and it is not there yet."""
    try:
        return browser.find_element(By.ID, element_id).text
    except (NoSuchElementException, StaleElementReferenceException):
        return ""


def shown(browser, element_id):
    try:
        return browser.find_element(By.ID, element_id).is_displayed()
    except (NoSuchElementException, StaleElementReferenceException):
        return False


def no_error(browser):
    errors = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".error") if e.is_displayed()]
    assert not errors, errors


def test_login_then_every_page_loads(cluster, browser):
    browser.get(cluster.url + "/")
    wait_for(lambda: "/login.html" in browser.current_url, what="the login page")
    browser.find_element(By.ID, "token").send_keys("not-the-token")
    browser.find_element(By.ID, "login").click()
    wait_for(lambda: "error=1" in browser.current_url and shown(browser, "error"),
             what="the login page's error")
    browser.find_element(By.ID, "token").send_keys(TOKEN)
    browser.find_element(By.ID, "login").click()
    wait_for(lambda: browser.current_url.rstrip("/") == cluster.url, what="the overview")
    wait_for(lambda: "ALIVE" in text_of(browser, "nodes"), what="the head node ALIVE")
    assert "CPU: " in text_of(browser, "nodes") and "/ 4" in text_of(browser, "nodes")
    for page, box in [("jobs.html", "jobs"), ("actors.html", "actors"), ("tasks.html", "tasks"),
                      ("placement_groups.html", "groups"), ("logs.html", "files"),
                      ("metrics.html", "status")]:
        browser.get(f"{cluster.url}/{page}")
        wait_for(lambda: text_of(browser, box) and "Loading" not in text_of(browser, box),
                 what=f"{page} loaded")
        no_error(browser)
        assert browser.find_element(By.CSS_SELECTOR, "header nav a.current").get_attribute(
            "href").endswith(page)


def test_a_task_and_an_actor_appear(cluster, browser, work):
    job_id = moray.get_runtime_context().get_job_id()
    browser.get(f"{cluster.url}/tasks.html?name=browser_probe")
    def probe_shown():
        browser.refresh()
        return "FINISHED" in wait_for(lambda: "Loading" not in text_of(browser, "tasks") and
                                      text_of(browser, "tasks"), what="tasks")
    wait_for(probe_shown, what="browser_probe FINISHED on the tasks page")
    assert job_id in text_of(browser, "tasks")
    browser.get(f"{cluster.url}/jobs.html")
    wait_for(lambda: job_id in text_of(browser, "jobs"), what="the driver's job")
    browser.get(f"{cluster.url}/actors.html")
    Select(browser.find_element(By.NAME, "state")).select_by_visible_text("ALIVE")
    browser.find_element(By.NAME, "class_name").send_keys("BrowserActor")
    browser.find_element(By.CSS_SELECTOR, "#filters button").click()
    wait_for(lambda: "BrowserActor" in text_of(browser, "actors"), what="the actor listed")
    assert text_of(browser, "count") == "1 of 1 shown"


def test_tasks_page_through_every_record(cluster, browser, work):
    per_page = 1000
    browser.get(f"{cluster.url}/tasks.html?name=tiny&limit={per_page}")
    def total_shown():
        browser.refresh()
        info = wait_for(lambda: text_of(browser, "page-info"), what="page info")
        return info.endswith(f"of {NUM_TASKS} (page 1 of {-(-NUM_TASKS // per_page)})") and info
    wait_for(total_shown, timeout=120, what=f"{NUM_TASKS} tiny tasks counted")
    first_page = text_of(browser, "tasks")
    browser.find_element(By.ID, "next").click()
    wait_for(lambda: text_of(browser, "page-info").startswith(f"{per_page + 1}–"), what="page 2")
    assert text_of(browser, "tasks") != first_page
    browser.find_element(By.ID, "last").click()
    last_start = (NUM_TASKS - 1) // per_page * per_page
    wait_for(lambda: text_of(browser, "page-info").startswith(f"{last_start + 1}–{NUM_TASKS} "),
             what="the last page")
    assert browser.find_element(By.ID, "next").get_attribute("disabled") is not None
    rows = browser.find_elements(By.CSS_SELECTOR, "#tasks tbody tr")
    assert len(rows) == NUM_TASKS - last_start
    assert "offset=" in browser.current_url


def test_charts_have_points(cluster, browser, work):
    browser.get(f"{cluster.url}/metrics.html")
    def points(chart):
        value = browser.find_element(By.ID, f"chart-{chart}").get_attribute("data-points")
        return int(value or 0)
    wait_for(lambda: all(points(c) >= 2 for c in ["cpu", "store", "tasks", "actors"]),
             timeout=30, what="every chart with points")
    assert "total: 4" in text_of(browser, "legend-cpu")
    assert "FINISHED" in text_of(browser, "legend-tasks")


def test_an_actors_log_opens_from_the_actors_page(cluster, browser, work):
    browser.get(f"{cluster.url}/actors.html")
    browser.find_element(By.NAME, "class_name").send_keys("BrowserActor")
    browser.find_element(By.CSS_SELECTOR, "#filters button").click()
    wait_for(lambda: "BrowserActor" in text_of(browser, "actors") and
             browser.find_elements(By.CSS_SELECTOR, "#actors a.actor-log"), what="the log link")
    browser.find_element(By.CSS_SELECTOR, "#actors a.actor-log").click()
    wait_for(lambda: "logs.html?actor_id=" in browser.current_url, what="the log viewer")
    wait_for(lambda: "browser actor says hello" in text_of(browser, "log"), what="the actor's line")
    assert ".out on 127.0.0.1" in text_of(browser, "log-title")
    # Followed: a line printed now shows up without reloading.
    assert moray.get(work.ping.remote()) == "pong"
    wait_for(lambda: text_of(browser, "log").count("browser actor says hello") >= 2,
             what="the new line followed")
    wait_for(lambda: "raylet.out" in text_of(browser, "files"), what="the node's files listed")

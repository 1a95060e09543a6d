"""`taper serve` in a real headless browser: Debian's chromium and chromium-driver, driven by
Selenium against uvicorn on a free loopback port.

The tests skip, saying why, where the browser, the driver or Selenium is missing (CI installs
them: .ci/run). Selenium is given the driver's path, so Selenium Manager never downloads one.
Screenshots of the plan page at 1280 and 390 px wide are saved in the test's temporary
directory and copied to /tmp/taper-shots/ for people to look at.
"""

from __future__ import annotations

import base64
import io
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SHOTS = Path("/tmp/taper-shots")

pytest.importorskip("starlette", reason="the web extra is not installed (pip install '.[web]')")
pytest.importorskip("uvicorn", reason="the web extra is not installed (pip install '.[web]')")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    pytest.skip(
        "no headless browser: install Debian's chromium and chromium-driver "
        "(apt-get install -y chromium chromium-driver), as .ci/run does",
        allow_module_level=True,
    )

from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.common.print_page_options import PrintOptions  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

from taper.web.server import bind, url_of  # noqa: E402

ARGS = ("clonazepam", "1.5mg", "--times", "3", "--start", "2027-01-04")


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """The page served by uvicorn in a thread, on a free loopback port."""
    import uvicorn

    from taper.web.app import create_app

    listener = bind("127.0.0.1", 0)
    port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app("127.0.0.1", port=port), log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield url_of("127.0.0.1", port)
    server.should_exit = True
    thread.join(timeout=30)
    listener.close()


def _driver(profile: Path, downloads: Path, *, javascript: bool = True) -> Any:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--lang=en-US",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "intl.accept_languages": "en-US",
            **({} if javascript else {"profile.managed_default_content_settings.javascript": 2}),
        },
    )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.execute_cdp_cmd(
        "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    return driver


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    folder = tmp_path / "downloads"
    folder.mkdir()
    return folder


@pytest.fixture
def browser(tmp_path: Path, downloads: Path) -> Iterator[Any]:
    driver = _driver(tmp_path / "profile", downloads)
    driver.set_window_size(1280, 1000)
    try:
        yield driver
    finally:
        driver.quit()


def fill_plan_form(driver: Any, base_url: str) -> None:
    """As a prescriber would: choose the drug by its brand name, type the dose, choose three
    dose times, type the first day, press the button."""
    driver.get(base_url)
    drug = driver.find_element(By.ID, "drug")
    Select(drug).select_by_visible_text("clonazepam (Klonopin, Rivotril)")
    driver.find_element(By.ID, "dose").send_keys("1.5mg")
    Select(driver.find_element(By.ID, "opt-times")).select_by_visible_text("3")
    start = driver.find_element(By.ID, "opt-start")
    start.send_keys("01042027")  # a date field in en-US: month, day, year
    assert start.get_attribute("value") == "2027-01-04"
    driver.find_element(By.XPATH, "//button[normalize-space()='Plan the taper']").click()
    WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.ID, "steps"))


def step_rows(driver: Any) -> list[list[str]]:
    rows = driver.find_elements(By.CSS_SELECTOR, "#steps tbody tr")
    return [[cell.text for cell in row.find_elements(By.CSS_SELECTOR, "th, td")] for row in rows]


def csp_violations(driver: Any) -> list[str]:
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if "Content Security Policy" in entry["message"] or "Refused to" in entry["message"]
    ]


def test_a_prescriber_plans_a_taper_and_reads_the_table(
    browser: Any, base_url: str, run: Any
) -> None:
    fill_plan_form(browser, base_url)
    document = run("schedule", *ARGS, "-f", "json").json
    rows = step_rows(browser)
    assert len(rows) == len(document["steps"])
    headings = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#steps thead th")]
    assert headings[:5] == ["Step", "From", "Morning", "Midday", "Night"]
    first = rows[0]
    assert first[0] == "1"
    assert first[1].startswith("2027-01-04")
    assert first[2:5] == ["0.5 mg", "0.5 mg", "0.5 mg"]
    assert rows[-1][-1].endswith("stop")
    kinds = {k.text.strip("[]") for k in browser.find_elements(By.CSS_SELECTOR, ".warning .kind")}
    assert kinds == {w["kind"] for w in document["warnings"]}
    assert browser.find_element(By.CSS_SELECTOR, "svg.curve").is_displayed()
    assert csp_violations(browser) == []


def test_the_csv_downloaded_is_the_command_line_s(
    browser: Any, base_url: str, run: Any, downloads: Path, tmp_path: Path
) -> None:
    fill_plan_form(browser, base_url)
    browser.find_element(By.XPATH, "//button[normalize-space()='Plan as CSV']").click()
    deadline = time.monotonic() + 60
    while not [p for p in downloads.glob("*.csv") if p.stat().st_size]:
        assert time.monotonic() < deadline, "no CSV was downloaded"
        time.sleep(0.1)
    time.sleep(0.5)  # a finished download has no .crdownload beside it
    assert not list(downloads.glob("*.crdownload"))
    (downloaded,) = downloads.glob("*.csv")
    assert downloaded.name == "clonazepam-taper-2027-01-04.csv"
    assert run("schedule", *ARGS, "-o", str(tmp_path / "cli.csv")).exit_status == 0
    assert downloaded.read_bytes() == (tmp_path / "cli.csv").read_bytes()


def test_a_pharmacist_uploads_the_command_line_s_plan_and_reads_the_check(
    browser: Any, base_url: str, run: Any, tmp_path: Path
) -> None:
    plan = tmp_path / "plan.csv"
    assert run("schedule", *ARGS, "-o", str(plan)).exit_status == 0
    document = run("check", str(plan), "-f", "json").json
    browser.get(base_url + "check")
    browser.find_element(By.ID, "plan").send_keys(str(plan))
    browser.find_element(By.XPATH, "//button[normalize-space()='Check the plan']").click()
    WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.ID, "check"))
    title = browser.find_element(By.ID, "check-title").text
    assert title.startswith("Checked plan.csv: clonazepam")
    rows = browser.find_elements(By.CSS_SELECTOR, "#check tbody tr")
    assert len(rows) == len(document["steps"])
    problems = [p.text for p in browser.find_elements(By.CSS_SELECTOR, ".problem")]
    assert len(problems) == len(document["problems"])
    assert bool(browser.find_elements(By.CSS_SELECTOR, ".ok")) == (not document["problems"])
    assert csp_violations(browser) == []


def test_the_page_is_used_with_the_keyboard_alone(browser: Any, base_url: str) -> None:
    browser.get(base_url)
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    active = browser.switch_to.active_element
    assert active.text == "Skip to the content"
    active.send_keys(Keys.ENTER)
    assert browser.switch_to.active_element.get_attribute("id") == "main"
    # Tab to the drug list, choose by typing, then the dose, and submit with Enter.
    for _ in range(40):
        browser.switch_to.active_element.send_keys(Keys.TAB)
        if browser.switch_to.active_element.get_attribute("id") == "drug":
            break
    else:
        raise AssertionError("the drug list cannot be reached with Tab")
    browser.switch_to.active_element.send_keys("clonazepam")
    browser.switch_to.active_element.send_keys(Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("id") == "dose"
    browser.switch_to.active_element.send_keys("1mg", Keys.ENTER)
    WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.ID, "steps"))
    assert step_rows(browser)[0][2] == "1 mg"


def test_an_error_is_one_line_and_takes_the_focus(browser: Any, base_url: str, run: Any) -> None:
    browser.get(base_url)
    Select(browser.find_element(By.ID, "drug")).select_by_value("clonazepam")
    browser.find_element(By.ID, "dose").send_keys("2,5mg")
    browser.find_element(By.XPATH, "//button[normalize-space()='Plan the taper']").click()
    WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.ID, "error"))
    error = browser.find_element(By.ID, "error")
    expected = run("schedule", "clonazepam", "2,5mg").stderr.strip().removeprefix("taper: error: ")
    assert error.text == f"Error: {expected}"
    assert browser.switch_to.active_element.get_attribute("id") == "error"


def test_the_plan_works_without_javascript(tmp_path: Path, downloads: Path, base_url: str) -> None:
    driver = _driver(tmp_path / "nojs", downloads, javascript=False)
    try:
        driver.set_window_size(1280, 1000)
        fill_plan_form(driver, base_url)
        assert len(step_rows(driver)) > 3
        assert not driver.find_elements(By.CSS_SELECTOR, ".print-button")
    finally:
        driver.quit()


@pytest.mark.parametrize(("paper", "size"), [("A4", (21.0, 29.7)), ("Letter", (21.59, 27.94))])
def test_the_plan_prints_as_a_clean_sheet(
    browser: Any, base_url: str, paper: str, size: tuple[float, float]
) -> None:
    pypdf = pytest.importorskip("pypdf")
    fill_plan_form(browser, base_url)
    options = PrintOptions()
    options.page_width, options.page_height = size
    pdf = pypdf.PdfReader(io.BytesIO(base64.b64decode(browser.print_page(options))))
    text = "\n".join(page.extract_text() for page in pdf.pages)
    box = pdf.pages[0].mediabox
    assert round(float(box.width) / 72 * 2.54, 1) == round(size[0], 1)
    assert "Draft for clinical review" in text
    assert "clonazepam: " in text
    assert "2027-01-04" in text
    for hidden in ("Plan the taper", "Plan as CSV", "Skip to the content", "Change the options"):
        assert hidden not in text, hidden


@pytest.mark.parametrize("width", [1280, 390])
def test_screenshots_of_the_plan_page(
    browser: Any, base_url: str, width: int, tmp_path: Path
) -> None:
    browser.set_window_size(width, 1000)
    fill_plan_form(browser, base_url)
    assert browser.execute_script("return window.innerWidth") == width
    # No part of the page but the scrollable step table is wider than the window.
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(width, min(height, 12000))
    shot = tmp_path / f"plan-{width}.png"
    assert browser.save_screenshot(str(shot))
    SHOTS.mkdir(exist_ok=True)
    shutil.copy(shot, SHOTS / shot.name)
    browser.set_window_size(width, 1000)
    browser.execute_script("document.getElementById('steps').scrollIntoView()")
    viewport = tmp_path / f"plan-{width}-table.png"
    assert browser.save_screenshot(str(viewport))
    shutil.copy(viewport, SHOTS / viewport.name)


REVISION = ("--on", "2027-02-10", "--hold", "2w", "--reason", "poor sleep")


def tab_to(driver: Any, element_id: str) -> None:
    """Press Tab until the element has the focus (at most 10 times)."""
    for _ in range(10):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        if driver.switch_to.active_element.get_attribute("id") == element_id:
            return
    raise AssertionError(f"{element_id} cannot be reached with Tab")


def fill_revise_form(driver: Any, base_url: str, plan: Path, *, keyboard: bool = False) -> None:
    """As a prescriber would: choose the plan file, type the date (the browser's date field),
    the hold and the reason, and press the button (or, with ``keyboard``, move with Tab and
    press Enter)."""
    driver.get(base_url + "revise")
    driver.find_element(By.ID, "plan").send_keys(str(plan))  # the file chooser's part
    on = driver.find_element(By.ID, "opt-on")
    if keyboard:  # Tab from the file chooser (keys sent to it would name a file)
        tab_to(driver, "opt-on")
        driver.switch_to.active_element.send_keys("02102027")
        assert on.get_attribute("value") == "2027-02-10"
        tab_to(driver, "opt-hold")  # past the date's month, day and year
        driver.switch_to.active_element.send_keys("2w")
        tab_to(driver, "opt-reason")
        driver.switch_to.active_element.send_keys("poor sleep", Keys.ENTER)
    else:
        on.send_keys("02102027")  # a date field in en-US: month, day, year
        assert on.get_attribute("value") == "2027-02-10"
        driver.find_element(By.ID, "opt-hold").send_keys("2w")
        driver.find_element(By.ID, "opt-reason").send_keys("poor sleep")
        driver.find_element(By.XPATH, "//button[normalize-space()='Revise the plan']").click()
    WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.ID, "steps"))


@pytest.fixture
def plan_file(run: Any, tmp_path: Path) -> Path:
    plan = tmp_path / "plan.json"
    assert run("schedule", *ARGS, "-o", str(plan)).exit_status == 0
    return plan


def test_a_prescriber_revises_a_plan_and_downloads_it(
    browser: Any, base_url: str, run: Any, plan_file: Path, downloads: Path, tmp_path: Path
) -> None:
    fill_revise_form(browser, base_url, plan_file)
    document = run("revise", str(plan_file), *REVISION, "-f", "json").json
    (revision,) = document["meta"]["revisions"]
    assert browser.find_element(By.ID, "result-title").text.startswith("Revision 1: clonazepam")
    line = browser.find_element(By.CSS_SELECTOR, "#revisions strong").text
    assert line.startswith(f"Revision 1 from 2027-02-10: {revision['description']}")
    assert len(step_rows(browser)) == len(document["steps"])
    reviews = browser.find_elements(By.CSS_SELECTOR, "#reviews tbody th")
    assert [cell.text for cell in reviews] == [review["date"] for review in document["reviews"]]
    browser.find_element(By.XPATH, "//button[normalize-space()='Plan as CSV']").click()
    deadline = time.monotonic() + 60
    while not [p for p in downloads.glob("*.csv") if p.stat().st_size]:
        assert time.monotonic() < deadline, "no CSV was downloaded"
        time.sleep(0.1)
    time.sleep(0.5)
    (downloaded,) = downloads.glob("*.csv")
    assert downloaded.name == "clonazepam-taper-2027-01-04-revision-1.csv"
    cli = tmp_path / "cli.csv"
    assert run("revise", str(plan_file), *REVISION, "-o", str(cli)).exit_status == 0
    assert downloaded.read_bytes() == cli.read_bytes()
    assert csp_violations(browser) == []


def test_a_plan_is_revised_with_the_keyboard_alone_and_without_javascript(
    tmp_path: Path, downloads: Path, base_url: str, plan_file: Path, run: Any
) -> None:
    driver = _driver(tmp_path / "nojs", downloads, javascript=False)
    try:
        driver.set_window_size(1280, 1000)
        fill_revise_form(driver, base_url, plan_file, keyboard=True)
        document = run("revise", str(plan_file), *REVISION, "-f", "json").json
        assert len(step_rows(driver)) == len(document["steps"])
        assert "(poor sleep)" in driver.find_element(By.CSS_SELECTOR, "#revisions").text
    finally:
        driver.quit()


def test_an_edited_plan_file_is_one_line_on_the_revise_page(
    browser: Any, base_url: str, run: Any, plan_file: Path
) -> None:
    text = plan_file.read_text(encoding="utf-8")
    edited = plan_file.with_name("edited.json")
    edited.write_text(text.replace('"dose_mg": 0.5', '"dose_mg": 0.25', 1), encoding="utf-8")
    assert edited.read_text(encoding="utf-8") != text
    browser.get(base_url + "revise")
    browser.find_element(By.ID, "plan").send_keys(str(edited))
    browser.find_element(By.ID, "opt-on").send_keys("02102027")
    browser.find_element(By.ID, "opt-hold").send_keys("2w")
    browser.find_element(By.XPATH, "//button[normalize-space()='Revise the plan']").click()
    WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.ID, "error"))
    error = browser.find_element(By.ID, "error").text
    assert error.startswith("Error: edited.json: ")
    assert len(error.splitlines()) == 1
    assert browser.switch_to.active_element.get_attribute("id") == "error"


@pytest.mark.parametrize("width", [1280, 390])
def test_screenshots_of_the_revise_page(
    browser: Any, base_url: str, width: int, tmp_path: Path, plan_file: Path
) -> None:
    SHOTS.mkdir(exist_ok=True)
    browser.set_window_size(width, 1000)
    browser.get(base_url + "revise")
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    form = tmp_path / f"revise-form-{width}.png"
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(width, min(height, 12000))
    assert browser.save_screenshot(str(form))
    shutil.copy(form, SHOTS / form.name)
    browser.set_window_size(width, 1000)
    fill_revise_form(browser, base_url, plan_file)
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(width, min(height, 12000))
    shot = tmp_path / f"revise-{width}.png"
    assert browser.save_screenshot(str(shot))
    shutil.copy(shot, SHOTS / shot.name)
    browser.set_window_size(width, 1000)
    browser.execute_script("document.getElementById('revisions').scrollIntoView()")
    top = tmp_path / f"revise-{width}-top.png"
    assert browser.save_screenshot(str(top))
    shutil.copy(top, SHOTS / top.name)

"""The stepper driven in headless Chromium: keys with focus only, steppers independent of
each other, no network, no console error; the standalone page from 420 to 1920 px wide.

One browser session serves every test of the module.  Screenshots go to the pytest
temporary directory (``*/stepper-shots/``) to be looked at.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from viz_graphs import chain_rule_graph

import viz

selenium = pytest.importorskip("selenium", reason="selenium not installed (pip install selenium)")

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.wait import WebDriverWait  # noqa: E402

_CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser",
                                                  "google-chrome"))), None)
_CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = [
    pytest.mark.skipif(_CHROMIUM is None, reason="Chromium not installed "
                       "(Debian: apt-get install chromium chromium-driver)"),
    pytest.mark.skipif(_CHROMEDRIVER is None, reason="chromedriver not installed "
                       "(Debian: apt-get install chromium-driver)"),
    pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed "
                       "(the pictures the pages show)"),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    options = Options()
    options.binary_location = str(_CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--hide-scrollbars"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(_CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def standalone_page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The chain rule's stepping page (forward and backward), and its number of frames."""
    c, _ = chain_rule_graph()
    frames = viz.frames(c, forward=True)
    path = tmp_path_factory.mktemp("page") / "steps.html"
    return viz.write_html(frames, path, title="f = x(2y + z)"), len(frames)


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stepper-shots")


def _viewport(driver: Any, width: int, height: int) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


def _errors(driver: Any) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser")
            if entry["level"] in ("SEVERE", "WARNING")]


def _step(driver: Any, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).get_attribute("data-step")


def _shown_title(driver: Any, element_id: str) -> str:
    return driver.execute_script(
        "return document.querySelector('#' + arguments[0] + ' .bp-head.bp-current "
        ".bp-step-title').textContent;", element_id)


_NOTEBOOK = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
      content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>two steppers</title>
<style>body {{ font-family: Georgia, serif; font-size: 17px; }}</style>
</head><body>
<p id="notebook-text">A notebook's own text.</p>
<textarea id="cell" rows="3" cols="40"></textarea>
{first}
<p>between the two</p>
{second}
</body></html>
"""


def test_two_steppers_and_a_text_area(browser: Any, tmp_path: Path, shots: Path) -> None:
    c, _ = chain_rule_graph()
    first = viz.stepper(c, title="first")
    x = viz.build("x*y + x", {"x": 2.0, "y": 5.0}).root
    second = viz.stepper(x, forward=False, title="second")
    html_first, html_second = first._repr_html_(), second._repr_html_()
    id_first = html_first.split('id="', 1)[1].split('"', 1)[0]
    id_second = html_second.split('id="', 1)[1].split('"', 1)[0]
    assert id_first != id_second
    page = tmp_path / "notebook.html"
    page.write_text(_NOTEBOOK.format(first=html_first, second=html_second))
    _viewport(browser, 1280, 1000)
    browser.get_log("browser")  # drop what an earlier page logged
    browser.get(page.as_uri())
    assert _step(browser, id_first) == _step(browser, id_second) == "1"

    # Typing in the text area (arrows, space, Home/End included) steps nothing.
    cell = browser.find_element(By.ID, "cell")
    cell.click()
    cell.send_keys("ab", Keys.ARROW_LEFT, Keys.ARROW_RIGHT, " c", Keys.ARROW_DOWN, Keys.END,
                   Keys.PAGE_DOWN)
    assert cell.get_attribute("value") == "ab c"
    assert _step(browser, id_first) == _step(browser, id_second) == "1"
    # Nor do keys pressed while the page itself has the focus.
    browser.find_element(By.ID, "notebook-text").click()
    browser.switch_to.active_element.send_keys(Keys.ARROW_RIGHT, Keys.END)
    assert _step(browser, id_first) == _step(browser, id_second) == "1"

    # Each stepper steps on its own, while it has the focus.
    browser.find_element(By.CSS_SELECTOR, f"#{id_first} .bp-title").click()
    browser.switch_to.active_element.send_keys(Keys.ARROW_RIGHT)
    assert (_step(browser, id_first), _step(browser, id_second)) == ("2", "1")
    assert _shown_title(browser, id_first) == f"2. {first.frames[1].title}"
    browser.find_element(By.CSS_SELECTOR, f"#{id_second} .bp-title").click()
    browser.switch_to.active_element.send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
    assert (_step(browser, id_first), _step(browser, id_second)) == ("2", "3")
    browser.switch_to.active_element.send_keys(Keys.END)
    assert _step(browser, id_second) == str(len(second))
    assert _shown_title(browser, id_second) == f"{len(second)}. {second.frames[-1].title}"
    browser.save_screenshot(str(shots / "two_steppers.png"))
    # The buttons: Next steps; arrows pressed on a button step the button's stepper.
    next_button = browser.find_element(By.CSS_SELECTOR, f"#{id_first} .bp-next")
    next_button.click()
    assert (_step(browser, id_first), _step(browser, id_second)) == ("3", str(len(second)))
    browser.switch_to.active_element.send_keys(Keys.ARROW_LEFT, Keys.ARROW_LEFT)
    assert _step(browser, id_first) == "1"
    # At the first frame Prev is disabled, and the focus stays in the stepper.
    assert browser.find_element(By.CSS_SELECTOR, f"#{id_first} .bp-prev").get_attribute(
        "disabled") is not None
    browser.find_element(By.CSS_SELECTOR, f"#{id_first} .bp-next").click()
    browser.find_element(By.CSS_SELECTOR, f"#{id_first} .bp-prev").click()
    browser.switch_to.active_element.send_keys(Keys.ARROW_RIGHT)
    assert _step(browser, id_first) == "2"
    # Back in the text area, the steppers stay where they are.
    cell.click()
    cell.send_keys(Keys.ARROW_RIGHT, "d")
    assert (_step(browser, id_first), _step(browser, id_second)) == ("2", str(len(second)))
    assert cell.get_attribute("value") == "ab cd"

    # A click on the picture gives the focus too.
    browser.find_element(By.CSS_SELECTOR, f"#{id_second} .bp-view").click()
    browser.switch_to.active_element.send_keys(Keys.HOME)
    assert (_step(browser, id_first), _step(browser, id_second)) == ("2", "1")

    # A front end that runs the output's script before putting the output in the page
    # (the classic notebook does): the stepper still starts once it is there.
    third = second._repr_html_()
    id_third = third.split('id="', 1)[1].split('"', 1)[0]
    browser.execute_script("""
        var holder = document.createElement('div');
        holder.innerHTML = arguments[0];
        var code = holder.querySelector('script').textContent;
        var run = document.createElement('script');
        run.textContent = code;
        document.head.appendChild(run);
        setTimeout(function () { document.body.appendChild(holder); }, 120);
    """, third)
    WebDriverWait(browser, 5).until(
        lambda driver: driver.find_element(By.ID, id_third).get_attribute("data-step") == "1")
    browser.find_element(By.CSS_SELECTOR, f"#{id_third} .bp-title").click()
    browser.switch_to.active_element.send_keys(Keys.ARROW_RIGHT)
    assert [_step(browser, i) for i in (id_first, id_second, id_third)] == ["2", "1", "2"]

    # The notebook's own style is untouched.
    font = browser.execute_script(
        "return getComputedStyle(document.getElementById('notebook-text')).fontFamily")
    size = browser.execute_script(
        "return getComputedStyle(document.getElementById('cell')).fontSize")
    assert font == "Georgia, serif"
    assert size != "15px"
    # Nothing was requested from anywhere, and nothing went wrong.
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert resources == []
    assert _errors(browser) == []


@pytest.mark.parametrize("width", [420, 1920])
def test_standalone_page_fits_and_its_controls_stay_put(
        browser: Any, standalone_page: tuple[Path, int], shots: Path, width: int) -> None:
    path, n_frames = standalone_page
    _viewport(browser, width, 900)
    browser.get_log("browser")
    browser.get(path.as_uri())
    assert browser.execute_script("return window.innerWidth") == width
    root = browser.find_element(By.ID, "stepper")
    assert "bp-js" in root.get_attribute("class")
    measure = """
        var root = document.getElementById('stepper');
        var view = root.querySelector('.bp-view');
        var svg = view.querySelector('.bp-picture.bp-current svg');
        function at(s) { var r = root.querySelector(s).getBoundingClientRect();
                         return [Math.round(r.left), Math.round(r.top),
                                 Math.round(r.width), Math.round(r.height)]; }
        var box = svg.getBoundingClientRect();
        var frame = view.querySelector('.bp-picture.bp-current').getBoundingClientRect();
        return {step: root.getAttribute('data-step'),
                controls: [at('.bp-prev'), at('.bp-next'), at('.bp-counter'), at('.bp-slider'),
                           at('.bp-fit'), at('.bp-zoom-in'), at('.bp-heads'), at('.bp-view')],
                svgWidth: box.width, viewBoxWidth: svg.viewBox.baseVal.width,
                viewWidth: view.clientWidth, viewScroll: view.scrollWidth,
                pictureWidth: frame.width, pictureBottom: frame.bottom,
                pageScroll: document.documentElement.scrollWidth, zoom:
                root.querySelector('.bp-zoom-label').textContent};
    """
    root.click()
    first = browser.execute_script(measure)
    positions = [first["controls"]]
    browser.save_screenshot(str(shots / f"page_{width}_first.png"))
    steps = [first["step"]]
    for _ in range(n_frames - 1):
        browser.switch_to.active_element.send_keys(Keys.ARROW_RIGHT)
        now = browser.execute_script(measure)
        positions.append(now["controls"])
        steps.append(now["step"])
        if now["step"] == "7":
            browser.save_screenshot(str(shots / f"page_{width}_step7.png"))
    assert steps == [str(k) for k in range(1, n_frames + 1)]
    assert all(p == positions[0] for p in positions), "the controls moved between frames"
    assert browser.execute_script("return location.hash") == f"#{n_frames}"

    pixels_per_unit = first["svgWidth"] / first["viewBoxWidth"]
    # Never smaller than 3/4 of Graphviz's natural size (1 pt = 4/3 px): readable text.
    assert pixels_per_unit >= 0.75 * 4 / 3 - 1e-6
    assert first["pageScroll"] <= width  # only the picture scrolls sideways, not the page
    if width == 1920:
        # A wide screen: the picture fills the width (no 60 % left empty) or the height of
        # the window (or is at twice its natural size), and nothing scrolls.
        assert first["viewScroll"] <= first["viewWidth"] + 1
        assert (first["pictureWidth"] >= 0.95 * first["viewWidth"]
                or first["pictureBottom"] >= 900 - 40 or pixels_per_unit >= 2 * 4 / 3 - 0.01)
    else:
        # A phone: the picture is wider than the screen at its readable minimum and scrolls.
        assert first["viewScroll"] > first["viewWidth"]

    # Zoom in, zoom out, fit (on the last frame).
    fitted = browser.execute_script(measure)["svgWidth"]
    browser.find_element(By.CSS_SELECTOR, "#stepper .bp-zoom-in").click()
    assert browser.execute_script(measure)["svgWidth"] == pytest.approx(1.25 * fitted, rel=0.01)
    browser.find_element(By.CSS_SELECTOR, "#stepper .bp-zoom-out").click()
    browser.find_element(By.CSS_SELECTOR, "#stepper .bp-zoom-out").click()
    assert browser.execute_script(measure)["svgWidth"] == pytest.approx(0.8 * fitted, rel=0.01)
    browser.switch_to.active_element.send_keys("0")  # the key for "fit"
    assert browser.execute_script(measure)["svgWidth"] == pytest.approx(fitted, rel=0.01)
    browser.switch_to.active_element.send_keys("+")
    assert browser.execute_script(measure)["svgWidth"] == pytest.approx(1.25 * fitted, rel=0.01)
    browser.find_element(By.CSS_SELECTOR, "#stepper .bp-fit").click()
    assert browser.execute_script(measure)["svgWidth"] == pytest.approx(fitted, rel=0.01)
    assert _errors(browser) == []
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    if width == 420:
        # The address keeps the step: a link to steps.html#5 opens at step 5.
        browser.get("about:blank")
        browser.get(path.as_uri() + "#5")
        assert _step(browser, "stepper") == "5"
        assert _shown_title(browser, "stepper").startswith("5. ")


def test_without_javascript_every_frame_is_shown_in_order(
        browser: Any, standalone_page: tuple[Path, int], shots: Path) -> None:
    # What an untrusted notebook shows: the frames one below the other, no dead buttons.
    path, n_frames = standalone_page
    _viewport(browser, 1000, 900)
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        browser.get(path.as_uri())
        titles = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".bp-step-title")
                  if e.is_displayed()]
        assert [t.split(".", 1)[0] for t in titles] == [str(k) for k in range(1, n_frames + 1)]
        assert browser.find_elements(By.TAG_NAME, "button") == []
        assert len([s for s in browser.find_elements(By.TAG_NAME, "svg") if s.is_displayed()]) \
            == n_frames
        browser.save_screenshot(str(shots / "no_javascript.png"))
    finally:
        browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})

"""The UI's pictures in a real headless Chromium (Selenium): the Practice tab's loss curve drawn
point by point as a practice runs, what to record next, the recording's spectrogram beside the
personality's resynthesis; the Play tab's coverage map with the played notes as dots and the
coverage warnings. Assertions read the canvases' pixels; screenshots (and the canvases as PNGs)
are kept under $AMADEUS_TEST_ARTIFACTS (default tests/artifacts/), printed by the test."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile
from _agent_support import PracticingStudio  # noqa: E402
from _coverage_support import practised_personality_with_preview  # noqa: E402
from test_browser import ARTIFACTS, CHROMEDRIVER, CHROMIUM, browser, wait_for  # noqa: E402, F401 - the fixture

from instrument_agent.agent import Agent, AgentServer  # noqa: E402
from instrument_agent.personality.store import PersonalityStore  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
        reason="Debian's chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)",
    ),
]

STEPS = 6


def artifacts_dir() -> Path:
    path = Path(os.environ.get("AMADEUS_TEST_ARTIFACTS") or ARTIFACTS)
    path.mkdir(parents=True, exist_ok=True)
    return path


def shot(driver, name: str) -> Path:
    path = artifacts_dir() / f"agent-ui-pictures-{name}.png"
    driver.save_screenshot(str(path))
    print(f"screenshot: {path}")
    return path


def canvas_pixels(driver, canvas_id: str, name: str) -> np.ndarray:
    """The canvas's pixels as the browser drew them ([H, W, 3] uint8, getImageData); the canvas is
    also kept as a PNG artifact (toDataURL)."""
    url = driver.execute_script(f"return document.getElementById('{canvas_id}').toDataURL('image/png')")
    path = artifacts_dir() / f"agent-ui-pictures-{name}.png"
    path.write_bytes(base64.b64decode(url.split(",", 1)[1]))
    print(f"canvas: {path}")
    width, height, rgba = driver.execute_script(
        f"const c = document.getElementById('{canvas_id}');"
        "return [c.width, c.height, Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)];"
    )
    return np.asarray(rgba, dtype=np.uint8).reshape(height, width, 4)[..., :3]


@pytest.fixture
def served(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "t").mkdir()
    practised_personality_with_preview(tmp_path / "s", seed=0)  # the studio's cello v1
    template = practised_personality_with_preview(tmp_path / "t", seed=4)  # what a practice publishes
    studio = PracticingStudio(PersonalityStore(tmp_path / "s" / "home"), template, steps=STEPS, step_s=0.5)
    agent = Agent(
        tmp_path / "agent", open_client=lambda reg: studio, audio=False, midi=False, backend="numpy", sample_rate=16000
    )
    agent.start(background_sync=True)
    agent.state.add_studio("home", "127.0.0.1:50051", select=True)
    agent.sync_now()
    server = AgentServer(agent, 0)
    url = server.start()
    yield url, agent
    server.stop()
    agent.stop()


def test_practice_and_play_pictures_in_a_real_browser(browser, served, tmp_path):  # noqa: F811 - the fixture
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    url, agent = served
    d = browser
    d.get(url)
    text = lambda sel: d.find_element(By.CSS_SELECTOR, sel).text  # noqa: E731
    js = d.execute_script
    wait_for(d, lambda d: text("#playing") == "playing cello v1", what="playing v1")

    # What to record next, from cello v1's coverage map (real tones C4–G4 and C5–D5, two dynamics).
    wait_for(d, lambda d: "record notes between" in text("#coverage-suggestion"), what="suggestion")
    assert text("#coverage-suggestion") == "cello v1: record notes between G#4 and B4, soft dynamics."
    assert "on notes C4–D5 (MIDI 60–74, 15 semitones)" in text("#coverage-summary")
    # The recording's spectrogram beside the resynthesis: both pictures loaded, as the bundle holds them.
    wait_for(
        d, lambda d: js("return document.querySelector('#preview-resynthesis').naturalWidth") == 400, what="preview"
    )
    assert js("return document.querySelector('#preview-recording').naturalWidth") == 400
    assert (
        d.find_element(By.ID, "preview-pair").is_displayed()
        and not d.find_element(By.ID, "preview-empty").is_displayed()
    )
    assert js("return document.querySelector('#preview-recording-audio').src").endswith(
        "/api/preview/cello/1/recording.wav"
    )

    # A practice: the loss curve grows point by point while it runs.
    wav = tmp_path / "take.wav"
    t = np.arange(32000) / 16000
    soundfile.write(str(wav), (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000)
    d.find_element(By.ID, "practice-deu").send_keys("cello")
    d.find_element(By.ID, "practice-file").send_keys(str(wav))
    d.find_element(By.ID, "practice-start").click()
    points = lambda d: int(d.find_element(By.ID, "loss-plot").get_attribute("data-points"))  # noqa: E731
    wait_for(d, lambda d: 2 <= points(d) < STEPS, what="loss curve growing")
    shot(d, "practice-loss-running")
    wait_for(d, lambda d: points(d) == STEPS, timeout=20, what="every step drawn")
    assert f"step {STEPS}/{STEPS}, loss {1 / STEPS:.3f} ({STEPS} points)" in text("#loss-caption")
    loss = canvas_pixels(d, "loss-plot", "canvas-loss").astype(int)
    orange = (abs(loss[..., 0] - 224) < 30) & (abs(loss[..., 1] - 164) < 30) & (loss[..., 2] < 130)
    ys, xs = np.nonzero(orange)
    assert orange.sum() > 100 and xs.min() >= 40  # the curve, inside the plot (right of the axis labels)
    # Loss 1/step falls: the curve starts high on the left and ends low on the right.
    assert ys[xs < xs.min() + 10].mean() < ys[xs > xs.max() - 10].mean()
    wait_for(d, lambda d: text("#playing") == "playing cello v2", what="swapped to v2")
    wait_for(d, lambda d: text("#coverage-suggestion").startswith("cello v2:"), what="v2's suggestion")
    wait_for(
        d, lambda d: js("return document.querySelector('#preview-recording').src").endswith("/cello/2/recording.png")
    )
    js("document.querySelector('#preview-pair').scrollIntoView()")
    shot(d, "practice-done")

    # Play: the coverage map with the played notes on it; a note below the map warns, once.
    d.find_element(By.ID, "tab-play").click()
    canvas = d.find_element(By.ID, "coverage-map")
    wait_for(d, lambda d: int(canvas.get_attribute("data-cells") or 0) > 0, what="coverage map")
    low = int(canvas.get_attribute("data-low"))
    drawn = canvas_pixels(d, "coverage-map", "canvas-coverage-empty").astype(int)
    column = lambda note: (note - low) * 10 + 5  # noqa: E731 - CELL_W = 10
    assert drawn[:192, column(64)].sum(axis=1).max() > 300  # E4 practised: bright cells
    assert drawn[:192, column(69)].sum(axis=1).max() < 150  # A4 in the gap: dark
    for note, expect_warning in ((55, True), (64, False), (53, False)):  # G3 (below), E4 (inside), F3 (below again)
        key = d.find_element(By.CSS_SELECTOR, f'.key[data-note="{note}"]')
        ActionChains(d).click_and_hold(key).perform()
        wait_for(d, lambda d, n=str(note): canvas.get_attribute("data-last-note") == n, what=f"dot for {note}")
        x, y = int(float(canvas.get_attribute("data-last-x"))), int(float(canvas.get_attribute("data-last-y")))
        low = int(canvas.get_attribute("data-low"))  # the window widens to show a note played below it
        assert low <= note - 6 and x == column(note)
        loudness = agent.player.coverage.recent[-1]["loudness_db"]  # velocity 100 through the playerProfile
        assert y == (15 - int(np.clip(np.floor((loudness + 80) / 5), 0, 15))) * 12 + 6
        pixel = canvas_pixels(d, "coverage-map", f"canvas-coverage-{note}")[y, x].astype(int)
        if note == 64:
            assert pixel.min() > 220, pixel  # inside the map: a white dot
        else:
            assert pixel[0] > 220 and pixel[1] < 90 and pixel[2] < 90, pixel  # outside: red
        ActionChains(d).release(key).perform()
        if expect_warning:
            wait_for(d, lambda d: d.find_elements(By.CSS_SELECTOR, "#coverage-warnings li"), what="warning")
    wait_for(d, lambda d: "G3, F3" in text("#coverage-warnings"), what="F3 joins the phrase's warning")
    warnings = d.find_elements(By.CSS_SELECTOR, "#coverage-warnings li")
    assert [w.text for w in warnings] == ["⚠ notes below C4 were never practised: G3, F3 (phrase 1)"]
    assert warnings[0].get_attribute("data-kind") == "pitch-low"
    shot(d, "play-coverage")

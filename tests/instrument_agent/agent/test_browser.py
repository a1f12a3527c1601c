"""The UI in a real headless Chromium (Selenium): Repair (studios, sync), Practice (choose,
preview, practise, follow), Play (keyboard, record; the audio backend, also through a real
JACK server with a JACK MIDI input picked; A/B of two versions with their spectrograms), and errors
shown in the banner.
Screenshots go to tests/artifacts/."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import soundfile
from _agent_support import PracticingStudio  # noqa: E402
from _jack_support import DawMidi, JackServer  # noqa: E402
from _perform_support import make_personality  # noqa: E402

from instrument_agent.agent import Agent, AgentServer  # noqa: E402
from instrument_agent.personality import write_preview  # noqa: E402
from instrument_agent.personality.store import PersonalityStore  # noqa: E402

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
        reason="Debian's chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)",
    ),
]


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1200,900",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


@pytest.fixture
def served(tmp_path):
    make_personality(tmp_path, seed=0)
    (tmp_path / "t").mkdir()
    studio = PracticingStudio(
        PersonalityStore(tmp_path / "home"), make_personality(tmp_path / "t", seed=4), steps=6, step_s=0.4
    )
    agent = Agent(
        tmp_path / "agent", open_client=lambda reg: studio, audio=False, midi=False, backend="numpy", sample_rate=16000
    )
    agent.start(background_sync=True)
    server = AgentServer(agent, 0)
    url = server.start()
    yield url, agent
    server.stop()
    agent.stop()


def wait_for(driver, predicate, timeout=15.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if predicate(driver):
                return
        except Exception:  # noqa: BLE001 - the page is re-rendering
            pass
        time.sleep(0.1)
    shot(driver, f"timeout-{what.replace(' ', '-')}")
    raise AssertionError(f"timed out waiting for {what}")


def shot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"agent-ui-{name}.png"
    driver.save_screenshot(str(path))
    return path


def test_practice_play_repair_in_a_real_browser(browser, served, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    url, agent = served
    d = browser
    d.get(url)
    text = lambda sel: d.find_element(By.CSS_SELECTOR, sel).text  # noqa: E731
    wait_for(d, lambda d: "no studio registered" in text("#connection"), what="first status")

    # Repair: a bad address is refused in the banner; a good one registers and syncs.
    d.find_element(By.ID, "tab-repair").click()
    d.find_element(By.ID, "studio-name").send_keys("home")
    d.find_element(By.ID, "studio-address").send_keys("no-port-here")
    d.find_element(By.ID, "studio-add").click()
    wait_for(d, lambda d: "is not host:port" in text("#error"), what="address error")
    shot(d, "repair-error")
    d.find_element(By.ID, "studio-address").clear()
    d.find_element(By.ID, "studio-address").send_keys("127.0.0.1:50051")
    d.find_element(By.ID, "studio-token").send_keys("secret")
    d.find_element(By.ID, "studio-add").click()
    wait_for(d, lambda d: d.find_elements(By.CSS_SELECTOR, '#studios tr[data-studio="home"]'), what="studio row")
    d.find_element(By.ID, "sync-now").click()
    wait_for(d, lambda d: "cello v1: downloaded" in text("#sync-result") or "cello v1" in text("#playing"), what="sync")
    wait_for(d, lambda d: text("#playing") == "playing cello v1", what="playing v1")
    assert "home: online" in text("#connection") and text("#practice-status") == "up to date"
    assert d.find_element(By.ID, "error").get_attribute("hidden") is not None
    assert d.find_element(By.ID, "data-path").get_attribute("value") == str(agent.state.data_path)
    shot(d, "repair")

    # Hear it learn: a practice's preview (in an embedded practice's work directory) plays, named
    # "preview step N" in the Play tab; the version it came from stays the version.
    d.find_element(By.ID, "tab-play").click()
    wait_for(d, lambda d: text("#hearing-label") == "cello version 1", what="hearing version 1")
    source = PersonalityStore(tmp_path / "home").get("cello", 1)
    manifest = type(source.manifest)()
    manifest.CopyFrom(source.manifest)
    del manifest.files[:]
    work = tmp_path / "practice-work"
    files = {f.path: source.file(f.path).read_bytes() for f in source.manifest.files}
    write_preview(work / "preview", manifest, files, step=40, loss=0.5)
    agent.follow(str(work))
    wait_for(d, lambda d: text("#hearing-label") == "cello preview step 40", what="hearing the preview")
    assert text("#playing") == "playing cello preview step 40"
    assert "following practice practice-work: preview step 40, loss 0.500" in text("#hearing-detail")
    shot(d, "play-preview")

    # Practice: choose a file (previewable), start, watch the progress, get the new version.
    wav = tmp_path / "cello-take.wav"
    t = np.arange(32000) / 16000
    soundfile.write(str(wav), (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000)
    d.find_element(By.ID, "tab-practice").click()
    d.find_element(By.ID, "practice-deu").send_keys("cello")
    d.find_element(By.ID, "practice-file").send_keys(str(wav))
    wait_for(d, lambda d: d.find_element(By.ID, "preview").is_displayed(), what="preview")
    wait_for(
        d, lambda d: d.execute_script("return document.querySelector('#preview').duration") > 1.9, what="preview loads"
    )
    d.find_element(By.ID, "practice-start").click()
    wait_for(
        d, lambda d: d.find_elements(By.CSS_SELECTOR, '#practices tr[data-phase="RUNNING"]'), what="practice running"
    )
    assert text("#practice-status") == "1 practice running"
    shot(d, "practice-running")
    wait_for(
        d,
        lambda d: d.find_elements(By.CSS_SELECTOR, '#practices tr[data-phase="SUCCEEDED"]'),
        timeout=20,
        what="practice done",
    )
    wait_for(d, lambda d: text("#playing") == "playing cello v2", what="swapped to v2")  # the version replaces it
    assert text("#practice-status") == "up to date"
    assert "100%" in text("#practices tbody")
    shot(d, "practice-done")

    # Play: the on-screen keyboard sounds the personality; record it to a WAV.
    d.find_element(By.ID, "tab-play").click()
    assert text("#audio-backend") == "none" and text("#audio-figures") == ""  # no sound card asked for: the clock
    d.find_element(By.ID, "record").click()
    wait_for(d, lambda d: "Stop recording" in text("#record"), what="recording")
    key = d.find_element(By.CSS_SELECTOR, '.key[data-note="60"]')
    ActionChains(d).click_and_hold(key).perform()
    wait_for(d, lambda d: agent.player.status()["voices"] >= 1, what="note sounding")
    shot(d, "play")
    time.sleep(0.4)
    ActionChains(d).release(key).perform()
    d.find_element(By.ID, "record").click()
    wait_for(d, lambda d: d.find_elements(By.CSS_SELECTOR, "#recordings li a"), what="recording link")
    href = d.find_element(By.CSS_SELECTOR, "#recordings li a").get_attribute("href")
    recorded = agent.state.data_path / "recordings" / href.rsplit("/", 1)[1]
    audio, rate = soundfile.read(recorded)
    assert rate == 16000 and np.abs(audio).max() > 1e-3
    assert "silent" in text("#audio-status")
    shot(d, "play-recorded")

    # The studio goes away: the UI says so, and the instrument keeps playing.
    agent.state.remove_studio("home")
    agent.state.add_studio("gone", "127.0.0.1:9")
    agent.open_client = agent.syncer.open_client = _unreachable
    d.find_element(By.ID, "tab-repair").click()
    d.find_element(By.ID, "sync-now").click()
    wait_for(d, lambda d: "does not answer" in text("#error"), what="offline error")
    wait_for(d, lambda d: "offline" in text("#connection"), what="offline pill")
    assert text("#playing") == "playing cello v2"
    shot(d, "offline")


def test_play_tab_through_jack_in_a_real_browser(browser, tmp_path):
    """With a JACK server (jackd2, dummy driver, started here) the agent plays through it: the Play
    tab says "jack" with the server's figures, and the ama picks a DAW's JACK MIDI output."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    jackd = JackServer(48000, 128).start()
    daw = DawMidi("daw-midi")
    agent = Agent(tmp_path / "agent", open_client=_unreachable, midi=True, backend="numpy", audio_backend="jack")
    try:
        agent.start(background_sync=False)
        server = AgentServer(agent, 0)
        url = server.start()
        try:
            d = browser
            d.get(url)
            text = lambda sel: d.find_element(By.CSS_SELECTOR, sel).text  # noqa: E731
            d.find_element(By.ID, "tab-play").click()
            wait_for(d, lambda d: text("#audio-backend") == "jack", what="jack backend")
            figures = text("#audio-figures")
            assert figures.startswith("48000 Hz · 128-frame blocks (2.7 ms) · latency 0 frames reported · ")
            assert figures.endswith(" xruns")
            assert "playing through JACK as 'Amadeus agent'" in text("#audio-status")
            assert text("#midi-status") == "listening on JACK MIDI port 'Amadeus agent:midi_in'"
            options = "#midi-select option"
            wait_for(d, lambda d: "daw-midi:out" in [o.text for o in d.find_elements(By.CSS_SELECTOR, options)])
            Select(d.find_element(By.ID, "midi-select")).select_by_value("daw-midi:out")
            d.find_element(By.ID, "midi-use").click()
            wait_for(d, lambda d: text("#midi-status") == "listening on JACK MIDI output 'daw-midi:out'", what="picked")
            assert daw.port.is_connected_to("Amadeus agent:midi_in")
            shot(d, "play-jack")
        finally:
            server.stop()
    finally:
        agent.stop()  # its JACK client closed before the server stops
        daw.close()
        jackd.stop()
    assert agent.player.status()["backend"] == "stopped"


def _unreachable(registration):
    import grpc

    from instrument_agent.client.studio_client import StudioClientError

    raise StudioClientError("studio: UNAVAILABLE: failed to connect to all addresses", grpc.StatusCode.UNAVAILABLE)


@pytest.fixture
def two_versions(tmp_path):
    """An agent whose local store holds cello v1 and v2 (different decoders), v1 promoted, v2 playing."""
    agent_home = tmp_path / "agent"
    agent = Agent(agent_home, open_client=_unreachable, audio=False, midi=False, backend="numpy", sample_rate=16000)
    local = PersonalityStore(agent.state.data_path)
    for seed in (0, 5):
        made = make_personality(tmp_path, seed=seed)
        stored = local.commit("cello", made.manifest, {e.path: made.path / e.path for e in made.manifest.files})
    local.promote("cello", 1)
    agent.state.set_current("cello", stored.version, stored.digest, "", select=True)
    agent.start(background_sync=False)
    server = AgentServer(agent, 0)
    url = server.start()
    yield url, agent
    server.stop()
    agent.stop()


def _canvas_pixels(d, selector):
    """``(width, height, [r, g, b, a, ...])`` of a canvas, read back from the page."""
    return d.execute_script(
        "const c = document.querySelector(arguments[0]);"
        "return [c.width, c.height, Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)];",
        selector,
    )


def test_ab_two_versions_on_the_same_notes_in_a_real_browser(browser, two_versions):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    url, agent = two_versions
    d = browser
    d.get(url)
    text = lambda sel: d.find_element(By.CSS_SELECTOR, sel).text  # noqa: E731
    wait_for(d, lambda d: text("#playing") == "playing cello v2", what="playing v2")
    d.find_element(By.ID, "tab-play").click()
    options = lambda sel: [o.text for o in d.find_elements(By.CSS_SELECTOR, f"{sel} option")]  # noqa: E731
    wait_for(d, lambda d: options("#ab-a") == ["v1 ★ champion", "v2"], what="versions listed")
    assert Select(d.find_element(By.ID, "ab-a")).first_selected_option.text == "v1 ★ champion"
    assert Select(d.find_element(By.ID, "ab-b")).first_selected_option.text == "v2"

    # One click renders the demo phrase with both; both spectrograms are drawn, and they differ.
    d.find_element(By.ID, "ab-compare").click()
    wait_for(d, lambda d: "on the demo phrase" in text("#ab-status"), timeout=60, what="compare done")
    pictures = {}
    for side in ("a", "b"):
        width, height, data = _canvas_pixels(d, f"#spec-{side}")
        rgba = np.array(data, dtype=np.uint8).reshape(height, width, 4)
        assert (width, height) == (400, 200) and (rgba[..., 3] == 255).all()  # every pixel drawn
        assert rgba[..., :3].std() > 10  # a picture, not a flat fill
        pictures[side] = rgba
    assert np.abs(pictures["a"].astype(int) - pictures["b"].astype(int)).mean() > 1  # two different sounds
    rows = {
        r.find_elements(By.TAG_NAME, "td")[0].text: r.text
        for r in d.find_elements(By.CSS_SELECTOR, "#compare-table tr")[1:]
    }
    distance = float(rows["multi-scale spectral distance"].split()[-1])
    assert distance > 1.0
    assert text("#spec-a-caption") == "A: cello v1" and text("#spec-b-caption") == "B: cello v2"
    d.execute_script("document.querySelector('#compare-view').scrollIntoView()")
    shot(d, "ab-compare")
    print(f"screenshots in {ARTIFACTS}")

    # Switching is instant: B starts where A was, from the already loaded audio.
    audio_ready = (
        "return [document.querySelector('#ab-audio-a').readyState, document.querySelector('#ab-audio-b').readyState]"
    )
    wait_for(d, lambda d: min(d.execute_script(audio_ready)) >= 1, what="both renders loaded")
    durations = d.execute_script(
        "return [document.querySelector('#ab-audio-a').duration, document.querySelector('#ab-audio-b').duration]"
    )
    assert durations[0] > 10 and abs(durations[0] - durations[1]) < 0.5  # the same eight bars
    d.find_element(By.ID, "ab-play-a").click()
    assert text("#ab-now").startswith("playing A (v1)")
    d.execute_script("const a = document.querySelector('#ab-audio-a'); a.pause(); a.currentTime = 4.0;")
    position = "const a = document.querySelector('#ab-audio-a'); return a.seeking ? -1 : a.currentTime"
    wait_for(d, lambda d: abs(d.execute_script(position) - 4.0) < 0.05, what="A at 4 s")
    d.find_element(By.ID, "ab-play-b").click()
    now = text("#ab-now")
    assert now.startswith("playing B (v2) from ") and 3.95 <= float(now.split()[-2]) <= 4.05
    wait_for(d, lambda d: abs(d.execute_script("return document.querySelector('#ab-audio-b').currentTime") - 4) < 0.5)
    assert "on" in d.find_element(By.ID, "ab-play-b").get_attribute("class")
    assert d.execute_script("return document.querySelector('#ab-audio-a').paused")

    # On what I just played: two notes on the keys, then A against itself: no difference.
    for note in ("60", "64"):
        key = d.find_element(By.CSS_SELECTOR, f'.key[data-note="{note}"]')
        ActionChains(d).click_and_hold(key).perform()
        time.sleep(0.3)
        ActionChains(d).release(key).perform()
    Select(d.find_element(By.ID, "ab-phrase")).select_by_value("mine")
    Select(d.find_element(By.ID, "ab-b")).select_by_value("1")
    d.find_element(By.ID, "ab-compare").click()
    wait_for(d, lambda d: text("#ab-status") == "v1 and v1 on your notes", timeout=30, what="compare mine")
    rows = {
        r.find_elements(By.TAG_NAME, "td")[0].text: r.text
        for r in d.find_elements(By.CSS_SELECTOR, "#compare-table tr")[1:]
    }
    assert float(rows["multi-scale spectral distance"].split()[-1]) == 0.0
    same_a, same_b = (_canvas_pixels(d, f"#spec-{side}")[2] for side in ("a", "b"))
    assert same_a == same_b
    seconds = d.execute_script("return document.querySelector('#ab-audio-a').duration")
    wait_for(
        d, lambda d: 0.5 < d.execute_script("return document.querySelector('#ab-audio-a').duration") < 8, what="short"
    )
    d.execute_script("document.querySelector('#compare-view').scrollIntoView()")
    shot(d, "ab-mine")
    assert seconds is None or seconds == seconds  # NaN before load is fine: the wait above checked the length
    assert d.find_element(By.ID, "error").get_attribute("hidden") is not None

"""The console in a real browser: headless Chromium (Debian's `chromium`, driven by Playwright; no browser is ever
downloaded) against the real stack. It creates a collection, uploads, searches, plays a hit, runs an import job,
rebuilds the collection with another model, enrolls and identifies a speaker, deletes a clip and drops the
collections, with a screenshot of each page.

Screenshots go to AUDIOSEARCH_CONSOLE_SCREENSHOTS (a folder; docs/images refreshes the docs' ones), else to a
temporary folder. Without chromium the test is skipped, except under CI=true, where it fails.
"""

import os
import pathlib

import pytest

from audiosearch.tools import synth

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # the browser fixture skips, or fails under CI
    expect = sync_playwright = None

CHROMIUM = "/usr/bin/chromium"
# Headless and quiet: nothing may reach the network; audio plays without a user gesture.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
    # A fake microphone (a beeping tone), granted without a prompt: the search page's recorder.
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
TIMEOUT_MS = 120_000  # a loaded CI machine: the first speaker embed loads its model
# Plays an <audio> element and resolves with its duration once it has played past 0, by its events (no polling: the
# page's Content-Security-Policy forbids the string evaluation that Playwright's wait_for_function uses).
PLAY = """audio => new Promise((resolve, reject) => {
  audio.addEventListener("timeupdate", () => audio.currentTime > 0 && resolve(audio.duration));
  audio.addEventListener("error", () => reject(new Error(`audio error ${audio.error && audio.error.code}`)));
  audio.play().catch(reject);
})"""
SEEK = """(audio, to) => new Promise(resolve => {
  audio.addEventListener("seeked", () => resolve(audio.currentTime), { once: true });
  audio.currentTime = to;
})"""


def _require(what: str, present: bool) -> None:
    if present:
        return
    message = f"{what} is not installed (bash scripts/setup.sh dev installs it)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}. CI=true: the browser tests must run.")
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser():
    _require(CHROMIUM, pathlib.Path(CHROMIUM).exists())
    _require("playwright", sync_playwright is not None)
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 760}, permissions=["microphone"])
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("dialog", lambda dialog: dialog.accept())  # the Drop button's confirm()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"the page threw: {errors}"


@pytest.fixture
def screenshots(tmp_path):
    folder = pathlib.Path(os.environ.get("AUDIOSEARCH_CONSOLE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> pathlib.Path:
        path = folder / f"console-{name}.png"
        page.screenshot(path=str(path), full_page=False)
        assert path.stat().st_size > 1000
        return path

    return take


def _open(page, console, token: str) -> None:
    """Open the console and give it a token the way a user does: type it; the page retries what was refused."""
    page.goto(console.url)
    page.fill("#token", token)
    page.dispatch_event("#token", "change")
    page.wait_for_selector("body[data-ready=true]")
    assert page.is_hidden("#message"), page.inner_text("#message")


def _show(page, name: str) -> None:
    page.click(f"header nav a[href='#{name}']")
    page.wait_for_selector(f"#page-{name}.active")


def _create(page, name: str, model: str = "", purpose: str = "") -> None:
    _show(page, "collections")
    page.fill("#create-collection [name=name]", name)
    if model:
        page.select_option("#create-collection [name=model]", model)
    if purpose:
        page.select_option("#create-collection [name=purpose]", purpose)
    page.click("#create-collection button")
    page.wait_for_selector(f"#collections tr[data-name={name}]")


def test_collection_upload_search_play_import_speakers_delete(page, console, collection_name, screenshots, tmp_path):
    library = console.library
    _open(page, console, console.tokens["admin"])
    _create(page, collection_name, model="logmel")
    screenshots(page, "collections")

    # Clips: upload three files, see them listed.
    _show(page, "clips")
    page.select_option("#clips-form [name=collection]", collection_name)
    uploads = [library / kind / f"{kind}-0.wav" for kind in ("tone", "chirp", "white_noise")]
    page.set_input_files("#upload-form [name=file]", [str(path) for path in uploads])
    page.fill("#upload-form [name=sound_class]", "demo")
    page.click("#upload-form button")
    expect(page.locator("#clips tbody tr")).to_have_count(3)
    screenshots(page, "clips")

    # Search with a file: hits with score bars, and a player of the matched range that loads and plays.
    _show(page, "search")
    page.select_option("#search-form [name=collection]", collection_name)
    page.set_input_files("#search-form [name=file]", str(library / "tone" / "tone-1.wav"))
    page.wait_for_selector("#query-player")
    page.click("#search-form button[type=submit], #search-form button:not([type])")
    page.wait_for_selector("#hits li.hit")
    assert page.locator("#hits li.hit").count() == 3
    assert "tone-0.wav" in page.inner_text("#hits li.hit >> nth=0")
    player = page.locator("#hits li.hit >> nth=0").locator("audio")
    duration = player.evaluate(PLAY)
    assert 1.9 < duration < 2.1  # the whole 2-s clip matched
    player.evaluate("audio => audio.pause()")
    screenshots(page, "search")

    # An import job from a folder below the gateway's import root: live progress until it succeeds.
    _show(page, "jobs")
    page.select_option("#job-form [name=collection]", collection_name)
    page.fill("#job-form [name=path]", str(library / "mixed"))
    page.click("#job-form button")
    expect(page.locator("#job-state")).to_have_text("succeeded")
    expect(page.locator("#job-counts")).to_contain_text("2 of 2 files: 1 added, 0 duplicates, 1 failed")
    expect(page.locator("#job-failures tbody tr")).to_have_count(1)
    expect(page.locator("#job-failures tbody tr")).to_contain_text("broken.wav")
    screenshots(page, "jobs")

    # Rebuild the collection with another model: a job too, followed live on the jobs page.
    _show(page, "collections")
    page.select_option("#rebuild-form [name=collection]", collection_name)
    page.select_option("#rebuild-form [name=model]", "fingerprint")
    page.click("#rebuild-form button")
    page.wait_for_selector("#page-jobs.active")
    rebuild = page.locator("#jobs tbody tr", has_text="rebuild with fingerprint")
    expect(rebuild.locator(".state")).to_have_text("succeeded")
    _show(page, "collections")
    expect(page.locator(f"#collections tr[data-name={collection_name}] td >> nth=1")).to_have_text("fingerprint")

    # Speakers: a speakers collection, an enrollment, an identification.
    speakers = f"{collection_name}_speakers"
    _create(page, speakers, purpose="PURPOSE_SPEAKERS")
    _show(page, "speakers")
    page.select_option("#speakers-form [name=collection]", speakers)
    voice = synth.write_clip(tmp_path / "voice.wav", synth.generate("vowel", 3, duration_seconds=6.0), 16000)
    page.fill("#enroll-form [name=speaker_id]", "alice")
    page.set_input_files("#enroll-form [name=file]", str(voice))
    page.click("#enroll-form button")
    page.wait_for_selector("#speakers tbody tr")
    page.set_input_files("#identify-form [name=file]", str(voice))
    page.click("#identify-form button")
    expect(page.locator("#speaker-decision")).to_contain_text("decision: identified alice")
    screenshots(page, "speakers")
    page.fill("#verify-form [name=speaker_id]", "alice")
    page.set_input_files("#verify-form [name=file]", str(voice))
    page.click("#verify-form button")
    expect(page.locator("#speaker-decision")).to_contain_text("decision: accept")

    # Filter the clips (the uploads are labelled demo; the imported one is not), delete one, drop both collections.
    _show(page, "clips")
    page.select_option("#clips-form [name=collection]", collection_name)
    page.fill("#clips-form [name=sound_classes]", "demo")
    page.click("#clips-form button")
    expect(page.locator("#clips tbody tr")).to_have_count(3)
    page.fill("#clips-form [name=sound_classes]", "")
    page.click("#clips-form button")
    expect(page.locator("#clips tbody tr")).to_have_count(4)
    rows = 4
    page.locator("#clips tbody tr >> nth=0").locator("button.danger").click()
    expect(page.locator("#clips tbody tr")).to_have_count(rows - 1)
    _show(page, "collections")
    for name in (collection_name, speakers):
        page.locator(f"#collections tr[data-name={name}] button.danger").click()
        page.wait_for_selector(f"#collections tr[data-name={name}]", state="detached")
    listed = console.call("GatewayService/ListCollections", {"page_size": 1000}).json().get("collections", [])
    assert not {collection_name, speakers} & {c["name"] for c in listed}


def test_without_chromium_outside_ci_the_test_skips(monkeypatch):
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception):
        _require("/nonexistent/chromium", False)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        _require("/nonexistent/chromium", False)


def test_microphone_search_and_a_hit_streamed_with_byte_ranges(page, open_console, collection_name):
    """Without a token the <audio> elements stream from the console: the player's requests get 206 byte ranges,
    and a seek lands. The query is recorded from the (fake) microphone and sent as a WAV."""
    library = open_console.library
    assert (
        open_console.call("GatewayService/CreateCollection", {"name": collection_name, "model": "logmel"}).status == 200
    )
    for kind in ("tone", "chirp", "white_noise"):
        request = {"collection": collection_name, "source": f"{kind}-2.wav"}
        answer = open_console.upload(
            "GatewayService/IngestAudio", request, (library / kind / f"{kind}-2.wav").read_bytes()
        )
        assert answer.status == 200, answer.body
    audio_statuses: list[int] = []
    page.on("response", lambda response: "/audio" in response.url and audio_statuses.append(response.status))
    page.goto(open_console.url)
    page.wait_for_selector("body[data-ready=true]")
    _show(page, "search")
    page.select_option("#search-form [name=collection]", collection_name)
    page.click("#record")
    expect(page.locator("#record")).to_have_text("Stop")
    page.wait_for_timeout(1500)  # the recording's length, not a wait for an event
    page.click("#record")
    expect(page.locator("#query-name")).to_have_text("recording.wav")
    page.click("#search-form button:not([type])")
    expect(page.locator("#hits li.hit")).to_have_count(3)
    player = page.locator("#hits li.hit >> nth=0").locator("audio")
    assert player.evaluate("audio => audio.src").startswith(open_console.url)  # streamed, not fetched whole
    assert 1.9 < player.evaluate(PLAY) < 2.1
    assert player.evaluate(SEEK, 1.5) >= 1.5
    assert 206 in audio_statuses, audio_statuses
    assert open_console.call("GatewayService/DropCollection", {"name": collection_name}).status == 200

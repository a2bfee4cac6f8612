"""End to end in real headless Chromium: the queue loads, a keyboard decision round-trips into the hub, screenshots kept."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from api import create_app
from hub.linking import steward_constraints
from tests.api.steward_hub import StewardHub, build_hub

CHROMIUM = os.environ.get("MDH_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "stewards-app"

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright (pip install playwright) is not installed")
if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
    pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[StewardHub, str]]:
    import uvicorn

    hub = build_hub(tmp_path)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(hub.config, engine=hub.engine, secret_key="browser-test"),
                                           host="127.0.0.1", port=port, access_log=False, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start within 10 s"
    try:
        yield hub, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def page():
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM,
                                     args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 1000})
            yield context.new_page()
        finally:
            browser.close()


def test_queue_loads_and_a_keyboard_decision_round_trips(served: tuple[StewardHub, str], page) -> None:
    hub, base = served
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{base}/app/queue")
    assert page.url.endswith("/app/login")
    page.fill("#token", hub.tokens["steward"])
    page.click("button[type=submit]")
    page.wait_for_selector("tr[data-task-row]")
    assert page.locator("tr[data-task-row]").count() == 3
    page.screenshot(path=str(ARTIFACTS / "01-queue.png"), full_page=True)

    # htmx filter: choose a source, the table is swapped in place and the URL pushed.
    page.select_option("#source", "electoral")
    # Locator waits, not wait_for_function: the page's CSP forbids eval, and stays in force for the whole test.
    playwright_api.expect(page.locator("tr[data-task-row]")).to_have_count(1)
    assert "source=electoral" in page.url
    page.select_option("#source", "")
    playwright_api.expect(page.locator("tr[data-task-row]")).to_have_count(3)

    # Keyboard: j selects the first (highest score) task, Enter opens it.
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_selector("#compare")
    assert page.locator("#waterfall rect").count() >= 3
    assert page.locator("tr[data-field='first_name'][data-state='differs']").count() == 1
    page.screenshot(path=str(ARTIFACTS / "02-task.png"), full_page=True)

    task_id = hub.tasks[("C1", "H1")]
    assert page.url.endswith(f"/app/tasks/{task_id}")
    page.fill("#reason", "same person, nickname")
    page.locator("body").click(position={"x": 5, "y": 5})  # leave the text box so the shortcut is live
    page.keyboard.press("a")
    page.wait_for_selector("#flash")
    assert f"Accepted task {task_id}" in page.inner_text("#flash")
    page.screenshot(path=str(ARTIFACTS / "03-after-accept.png"), full_page=True)
    assert hub.person("C1") == hub.person("H1")
    with Session(hub.engine) as s:
        must, _ = steward_constraints(s)
    assert tuple(sorted((str(hub.records["C1"]), str(hub.records["H1"])))) in must

    # Reject the next one from the page it landed on.
    page.click("#reject")
    page.wait_for_selector("#flash")
    page.screenshot(path=str(ARTIFACTS / "04-after-reject.png"), full_page=True)
    with Session(hub.engine) as s:
        _, cannot = steward_constraints(s)
    assert len(cannot) == 1

    # The golden person's page: attributes with lineage, records to split, the edit form.
    page.goto(f"{base}/app/persons/{hub.person('C1')}")
    page.wait_for_selector("#attributes")
    assert page.locator("tr[data-record]").count() == 2
    page.screenshot(path=str(ARTIFACTS / "05-person.png"), full_page=True)
    assert all(u.startswith(base) for u in requests), "the app must not load anything from outside"
    assert not console_errors, console_errors  # e.g. a Content-Security-Policy violation

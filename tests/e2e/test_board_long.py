"""The board reading out long announcements, its EMERGENCY chime and BMKG badge.

What the page does and the pace it does it at are in docs/board.md.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Literal

import pytest
import pytest_asyncio
from playwright.async_api import (
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    ViewportSize,
    expect,
)

from tests.e2e.browser import OFFLINE_ARGS, Board, Offline, chromium
from tests.e2e.live import Live

DESA = "61.04.16.2006"  # Suka Bangun, Kecamatan Delta Pawan
KECAMATAN = "61.04.16"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "board.md"
SMALL = ViewportSize(width=1366, height=768)
LARGE = ViewportSize(width=1920, height=1080)
# Fast enough for a test, slow enough that every row stays on screen for several
# samples on a loaded 2-core box.
FAST = "?line-ms=60&dwell-ms=400"
# Where one round must do: each row then stays over a second.
STEADY = "?line-ms=100&dwell-ms=400"
DEADLINE_MS = 30_000
# How early the next announcement may come by the page's own notes of when it
# showed each (`at`): a note is taken after the timers and the animation
# started, an animation's clock starts at a frame whose timestamp may precede
# it, and the scroll's length is in fractional lines. Once, on a loaded
# machine, the next one came 1.3 ms before the long body's time was up.
FRAME_MS = 50
# A 10,000-character body read at FAST takes ~15 s a round; a row missed in one
# round (a slow sample) is seen in the next.
READ_DEADLINE_S = 180.0
SAMPLE_EVERY_S = 0.03
Motion = Literal["reduce", "no-preference"]

# The numbered lines of the body that are wholly on screen now: every box of
# the line's text inside the viewport and inside every ancestor that clips.
VISIBLE_LINES = """() => {
  const emergency = document.body.classList.contains('is-emergency');
  const part = emergency ? 'emergency' : 'notice';
  const text = document.getElementById(`${part}-body`);
  const title = document.getElementById(`${part}-title`).textContent;
  const node = text.firstChild;
  const shown = text.checkVisibility({ opacityProperty: true });
  if (!node || !shown) {
    return { title, seen: [] };
  }
  let clip = { left: 0, top: 0, right: innerWidth, bottom: innerHeight };
  for (let el = text; el; el = el.parentElement) {
    const style = getComputedStyle(el);
    if (style.overflowX === 'visible' && style.overflowY === 'visible') continue;
    const box = el.getBoundingClientRect();
    const left = box.left + el.clientLeft;
    const top = box.top + el.clientTop;
    clip = {
      left: Math.max(clip.left, left),
      top: Math.max(clip.top, top),
      right: Math.min(clip.right, left + el.clientWidth),
      bottom: Math.min(clip.bottom, top + el.clientHeight),
    };
  }
  const inside = (r) => r.left >= clip.left - 0.5 && r.right <= clip.right + 0.5
    && r.top >= clip.top - 0.5 && r.bottom <= clip.bottom + 0.5;
  const range = document.createRange();
  const seen = [];
  let start = 0;
  for (const line of node.data.split('\\n')) {
    range.setStart(node, start);
    range.setEnd(node, start + line.length);
    const boxes = [...range.getClientRects()].filter((r) => r.width > 0);
    if (boxes.length && boxes.every(inside)) seen.push(line.slice(0, 9));
    start += line.length + 1;
  }
  return { title, seen };
}"""
FILLER = (
    "warga diminta menjaga kebersihan saluran air dan segera melapor ke kantor "
    "desa bila air sungai naik atau ada genangan di jalan"
)
SHOWN = "() => window.kimgraphBoard.shown"
# Where the body's text is moved to now, and when (the page's clock).
OFFSET = """part => {
  const moved = getComputedStyle(document.getElementById(`${part}-body`)).transform;
  return { y: new DOMMatrix(moved).m42, at: performance.now() };
}"""
SOUND = """() => {
  const sound = window.kimgraphBoard.sound;
  return {
    played: sound.played,
    refused: sound.refused,
    state: sound.context && sound.context.state,
    ended: !!sound.context && sound.context.currentTime >= sound.endsAt,
    activated: navigator.userActivation.hasBeenActive,
  };
}"""


def numbered_body(length: int = 10_000) -> str:
    """Lines "Baris 001: …" of 40 to 150 characters, the long ones wrapping."""
    words = FILLER.split()
    lines: list[str] = []
    while sum(len(line) + 1 for line in lines) < length:
        number = len(lines) + 1
        target = (40, 75, 150, 60, 110)[number % 5]
        line = f"Baris {number:03d}:"
        index = number
        while len(line) < target:
            line += " " + words[index % len(words)]
            index += 1
        lines.append(line)
    body = "\n".join(lines)[:length]
    assert len(body) == length
    assert body.rsplit("\n", 1)[1].startswith("Baris")
    return body


def labels(body: str) -> set[str]:
    return {line[:9] for line in body.split("\n")}


def documented_pace() -> dict[str, int]:
    """The production line time and dwell as docs/board.md's table states them."""
    rows = re.findall(
        r"^\| [a-z ]+ \| (\d+) ms \| `([a-z-]+)` \|", DOCS.read_text(), re.M
    )
    names = {"line-ms": "lineMs", "dwell-ms": "dwellMs"}
    return {names[name]: int(value) for value, name in rows}


@pytest_asyncio.fixture
async def browser(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    async with chromium(tmp_path, OFFLINE_ARGS) as context:
        yield context


@pytest_asyncio.fixture
async def offline(browser: BrowserContext, live: Live) -> AsyncIterator[Offline]:
    """Only the server may be reached; a test ends by checking nothing else was."""
    guard = await Offline.guard(browser, live.server.url)
    yield guard
    assert guard.attempted == []


async def open_board(
    browser: BrowserContext,
    live: Live,
    screen: ViewportSize,
    motion: Motion,
    query: str = "",
) -> Page:
    """The desa's board at a screen size and motion preference, following live."""
    page = browser.pages[0] if browser.pages else await browser.new_page()
    await page.set_viewport_size(screen)
    await page.emulate_media(reduced_motion=motion)
    board = await Board.open(browser, f"{live.server.url}/board/{DESA}{query}")
    await expect(board.page.locator("#link")).to_have_attribute(
        "data-state", "live", timeout=DEADLINE_MS
    )
    return board.page


def page_problems(page: Page) -> list[str]:
    """Every uncaught error and console message of the page, as they come."""
    problems: list[str] = []

    def console(message: ConsoleMessage) -> None:
        problems.append(f"console {message.type}: {message.text}")

    def error(exception: Error) -> None:
        problems.append(f"error: {exception}")

    page.on("console", console)
    page.on("pageerror", error)
    return problems


async def read_along(page: Page, title: str, lines: set[str]) -> list[dict[str, Any]]:
    """Sample the screen until every line was wholly on it under title."""
    seen: set[str] = set()
    samples: list[dict[str, Any]] = []
    deadline = time.monotonic() + READ_DEADLINE_S
    while not lines <= seen:
        missing = sorted(lines - seen)
        assert time.monotonic() < deadline, f"{len(missing)} never shown: {missing}"
        sample = await page.evaluate(VISIBLE_LINES)
        samples.append(sample)
        if sample["title"] == title:
            seen.update(sample["seen"])
        await asyncio.sleep(SAMPLE_EVERY_S)
    return samples


@pytest.mark.parametrize(
    ("screen", "motion", "priority"),
    [
        pytest.param(SMALL, "no-preference", "NORMAL", id="1366x768-scroll"),
        pytest.param(SMALL, "reduce", "EMERGENCY", id="1366x768-pages-emergency"),
        pytest.param(LARGE, "reduce", "NORMAL", id="1920x1080-pages"),
        pytest.param(
            LARGE, "no-preference", "EMERGENCY", id="1920x1080-scroll-emergency"
        ),
    ],
)
async def test_every_line_of_a_10000_character_body_is_on_screen_at_some_point(
    browser: BrowserContext,
    live: Live,
    offline: Offline,
    screen: ViewportSize,
    motion: Motion,
    priority: str,
) -> None:
    # given
    body = numbered_body()
    await live.publish(
        "Peringatan dini cuaca",
        [DESA],
        category="DISASTER",
        priority=priority,
        body=body,
    )
    # when
    page = await open_board(browser, live, screen, motion, FAST)
    # then
    await read_along(page, "Peringatan dini cuaca", labels(body))
    (plan, *_) = await page.evaluate(SHOWN)
    assert plan["mode"] == ("pages" if motion == "reduce" else "scroll")
    assert plan["lines"] > 3 * plan["rows"]  # several windows' worth


@pytest.mark.parametrize("motion", ["no-preference", "reduce"])
async def test_the_rotation_waits_until_a_long_body_was_shown_whole(
    browser: BrowserContext, live: Live, offline: Offline, motion: Motion
) -> None:
    # given: a short announcement, then a long one (newest, so shown first)
    await live.publish("Posyandu balita", [DESA], body="Kamis pukul 08.00 WIB.")
    body = numbered_body()
    await live.publish("Jadwal lengkap pemadaman listrik", [KECAMATAN], body=body)
    # when
    page = await open_board(browser, live, SMALL, motion, STEADY)
    samples = await read_along(page, "Jadwal lengkap pemadaman listrik", labels(body))
    # then: the short one came only after the long one was read out whole
    titles = [sample["title"] for sample in samples]
    assert "Posyandu balita" not in titles
    await expect(page.locator("#notice-title")).to_have_text(
        "Posyandu balita", timeout=DEADLINE_MS
    )
    long, short = (await page.evaluate(SHOWN))[:2]
    assert [long["title"], short["title"]] == [
        "Jadwal lengkap pemadaman listrik",
        "Posyandu balita",
    ]
    assert long["totalMs"] == long["lines"] * 100 + 400
    assert short["at"] - long["at"] >= long["totalMs"] - FRAME_MS
    # and it comes round again after the short one's usual time
    await expect(page.locator("#notice-title")).to_have_text(
        "Jadwal lengkap pemadaman listrik", timeout=DEADLINE_MS
    )


async def test_short_announcements_keep_their_rotation_time(
    browser: BrowserContext, live: Live, offline: Offline
) -> None:
    # given
    await live.publish("Rapat RT", [DESA], body="Malam ini di balai desa.")
    await live.publish("Kerja bakti", [DESA], body="Minggu pagi, bawa cangkul.")
    # when: the production pace
    page = await open_board(browser, live, SMALL, "no-preference")
    await expect(page.locator("#notice-title")).to_have_text("Kerja bakti")
    # then
    await expect(page.locator("#notice-title")).to_have_text(
        "Rapat RT", timeout=DEADLINE_MS
    )
    first, second = (await page.evaluate(SHOWN))[:2]
    expected = 8000 + 40 * len("Kerja bakti" + "Minggu pagi, bawa cangkul.")
    assert (first["title"], first["mode"], first["totalMs"]) == (
        "Kerja bakti",
        "fits",
        expected,
    )
    assert second["at"] - first["at"] >= expected
    assert await page.locator("#pages").text_content() == ""


async def test_the_production_pace_is_the_documented_one(
    browser: BrowserContext, live: Live, offline: Offline
) -> None:
    # given
    pace = documented_pace()
    assert pace == {"lineMs": 4000, "dwellMs": 8000}
    await live.publish("Pengumuman panjang", [DESA], body=numbered_body())
    # when: no pace in the address
    page = await open_board(browser, live, SMALL, "no-preference")
    # then: the page uses the documented pace ...
    assert await page.evaluate("() => window.kimgraphBoard.pace") == pace
    (plan,) = await page.evaluate(SHOWN)
    line = plan["lineHeight"]
    assert plan["mode"] == "scroll"
    assert plan["holdMs"] == pace["dwellMs"]
    assert plan["endMs"] == plan["rows"] * pace["lineMs"]
    assert plan["totalMs"] == plan["lines"] * pace["lineMs"] + pace["dwellMs"]
    # ... and holds still at the top for the dwell, then scrolls a line per 4 s
    samples = [await page.evaluate(OFFSET, "notice")]
    while samples[-1]["y"] == 0 or samples[-1]["at"] - moving_since(samples) < 3000:
        assert samples[-1]["at"] - plan["at"] < pace["dwellMs"] + DEADLINE_MS
        await asyncio.sleep(0.1)
        samples.append(await page.evaluate(OFFSET, "notice"))
    moving = [s for s in samples if s["y"] != 0]
    assert moving[0]["at"] - plan["at"] >= pace["dwellMs"]
    speed = (moving[0]["y"] - moving[-1]["y"]) / (moving[-1]["at"] - moving[0]["at"])
    assert speed == pytest.approx(line / pace["lineMs"], rel=0.1)


def moving_since(samples: list[dict[str, float]]) -> float:
    """When the first sample with the text moved was taken (now if none)."""
    moved = [s["at"] for s in samples if s["y"] != 0]
    return moved[0] if moved else samples[-1]["at"]


async def test_paging_at_the_production_pace_gives_each_row_4_seconds(
    browser: BrowserContext, live: Live, offline: Offline
) -> None:
    # given
    await live.publish("Pengumuman panjang", [DESA], body=numbered_body())
    # when
    page = await open_board(browser, live, LARGE, "reduce")
    # then
    (plan,) = await page.evaluate(SHOWN)
    pages = plan["pages"]
    rows = plan["rows"]
    assert plan["mode"] == "pages"
    assert pages[0] == {"top": 0, "ms": rows * 4000}
    assert [p["top"] for p in pages] == [
        pytest.approx(i * (rows - 1) * plan["lineHeight"]) for i in range(len(pages))
    ]
    assert {p["ms"] for p in pages[1:-1]} == {(rows - 1) * 4000}
    assert sum(p["ms"] for p in pages) + 8000 == plan["totalMs"]
    await expect(page.locator("#pages")).to_have_text(f"Halaman 1 / {len(pages)}")
    assert (await page.evaluate(OFFSET, "notice"))["y"] == 0


async def test_a_bmkg_warning_shows_its_source_in_the_card_header(
    browser: BrowserContext, live: Live, offline: Offline
) -> None:
    # given
    await live.publish(
        "Mengutip BMKG",
        [DESA],
        body="Sumber: BMKG menyebut hujan lebat. Selebihnya dari kecamatan.",
    )
    await live.publish(
        "Hujan sedang di Delta Pawan",
        [KECAMATAN],
        category="DISASTER",
        priority="IMPORTANT",
        body="Hujan sedang hingga lebat disertai kilat.\n\nSumber: BMKG",
    )
    page = await open_board(browser, live, SMALL, "reduce")
    notice_badge = page.locator("#notice-badge")
    # then
    await expect(page.locator("#notice-title")).to_have_text(
        "Hujan sedang di Delta Pawan"
    )
    await expect(notice_badge).to_be_visible()
    await expect(notice_badge).to_have_text("Sumber: BMKG")
    await expect(page.locator("#notice-body")).to_have_text(
        "Hujan sedang hingga lebat disertai kilat.\n\nSumber: BMKG"
    )
    # and an announcement that only mentions BMKG has no badge
    await expect(page.locator("#notice-title")).to_have_text(
        "Mengutip BMKG", timeout=DEADLINE_MS
    )
    await expect(notice_badge).to_be_hidden()
    # when
    await live.publish(
        "Hujan lebat dan angin kencang",
        [KECAMATAN],
        category="DISASTER",
        priority="EMERGENCY",
        body="Waspada banjir di bantaran Sungai Pawan. Sumber: BMKG.",
    )
    # then
    await expect(page.locator("#emergency-title")).to_have_text(
        "Hujan lebat dan angin kencang", timeout=DEADLINE_MS
    )
    await expect(page.locator("#emergency-badge")).to_be_visible()
    await expect(page.locator("#emergency-badge")).to_have_text("Sumber: BMKG")


async def test_an_emergency_chimes_once_on_a_board_opened_with_a_click(
    browser: BrowserContext, live: Live, offline: Offline
) -> None:
    # given: a kiosk's board, clicked once when it was set up
    await live.publish("Posyandu balita", [DESA])
    page = await open_board(browser, live, SMALL, "reduce")
    problems = page_problems(page)
    await page.mouse.click(400, 400)
    # when
    await live.publish("Banjir", [KECAMATAN], priority="EMERGENCY", category="DISASTER")
    # then: the chime was generated and the audio clock ran through it
    await expect(page.locator("#emergency-title")).to_have_text(
        "Banjir", timeout=DEADLINE_MS
    )
    await page.wait_for_function(
        "() => { const s = window.kimgraphBoard.sound; "
        "return s.played === 1 && s.context.currentTime >= s.endsAt; }",
        timeout=DEADLINE_MS,
    )
    sound = await page.evaluate(SOUND)
    assert (sound["played"], sound["refused"], sound["ended"]) == (1, 0, True)
    # and then suspended; a second EMERGENCY resumes it and chimes again
    await page.wait_for_function(
        "() => window.kimgraphBoard.sound.context.state === 'suspended'",
        timeout=DEADLINE_MS,
    )
    await live.publish("Angin kencang", [DESA], priority="EMERGENCY")
    await expect(page.locator("#emergency-title")).to_have_text(
        "Angin kencang", timeout=DEADLINE_MS
    )
    await page.wait_for_function(
        "() => window.kimgraphBoard.sound.played === 2", timeout=DEADLINE_MS
    )
    assert (await page.evaluate(SOUND))["refused"] == 0
    assert problems == []


async def test_without_a_click_the_chime_is_skipped_silently(
    browser: BrowserContext, live: Live, offline: Offline
) -> None:
    # given: a board nobody clicked. Playwright's evaluate and locators would
    # give the page a user activation, so it is read over CDP until the end.
    page = browser.pages[0] if browser.pages else await browser.new_page()
    await page.set_viewport_size(SMALL)
    problems = page_problems(page)
    await page.goto(f"{live.server.url}/board/{DESA}")
    cdp = await browser.new_cdp_session(page)

    async def without_gesture(expression: str) -> Any:
        reply = await cdp.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}
        )
        return reply["result"].get("value")

    async def until(expression: str) -> Any:
        deadline = time.monotonic() + DEADLINE_MS / 1000
        while not (value := await without_gesture(expression)):
            assert time.monotonic() < deadline, expression
            await asyncio.sleep(0.05)
        return value

    await until("document.getElementById('link').dataset.state === 'live'")
    # when
    await live.publish("Banjir", [KECAMATAN], priority="EMERGENCY")
    # then
    await until("window.kimgraphBoard.sound.refused === 1")
    sound = await without_gesture(f"({SOUND})()")
    assert sound == {
        "played": 0,
        "refused": 1,
        "state": None,
        "ended": False,
        "activated": False,
    }
    assert await without_gesture("document.body.className") == "is-emergency"
    assert problems == []

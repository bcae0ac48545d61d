"""The leaderboard page in a real headless Chromium, with every non-local request blocked.

Boards are built from constructed result files; the page is loaded from file:// and from the
`truthstab leaderboard serve` server. Screenshots land in test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from leaderboard_results import DOMAINS, make_result, paired_draws, save, tiny_png
from truthstab.leaderboard.build import build_leaderboard
from truthstab.leaderboard.render import write_leaderboard
from truthstab.leaderboard.serve import make_server, url_of

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EVIL = "<img src=x onerror=alert(1)>"
BREAKOUT = "evil</script><script>alert(2)</script><!--"
LONG = "HuggingFaceTB/SmolLM2-135M-Instruct"
GGUF = "Q4_1 GGUF weights dequantised to float32"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    """A built leaderboard folder: 5 models on one board, 1 on a faithful board, 1 on a quick-run board."""
    root = tmp_path_factory.mktemp("lb")
    results = root / "results"
    noise = np.random.default_rng(0).normal(size=1000)
    figs = ["figures/layer_sweep.png", "figures/flip_rates.png"]
    alpha = save(
        results,
        make_result(
            "org/alpha", 90, 2, draws=paired_draws(90, noise), n_parameters=8_000_000_000, figures=figs
        ),
    )
    (alpha.parent / "figures").mkdir()
    for name in figs:
        (alpha.parent / name).write_bytes(tiny_png(size=24))
    save(
        results,
        make_result("org/beta", 70, 3, sha="b" * 40, draws=paired_draws(70, noise), is_instruct=False),
    )
    save(
        results,
        make_result(
            "org/encoder", 60, 3, sha="c" * 40, is_encoder=True, is_instruct=False, n_parameters=22_713_216
        ),
    )
    path = save(
        results,
        make_result(EVIL, 50, 3, sha="e" * 40, figures=["figures/bars.png"], warnings=[EVIL + " warning"]),
    )
    (path.parent / "figures").mkdir()
    (path.parent / "figures" / "bars.png").write_bytes(tiny_png(size=32))
    (path.parent / "report.md").write_text(
        f"truthstab report card\n=====================\nmodel      {EVIL}\n\n"
        "headline   value\n---------  -----\ntruth      50.0 [47.0, 53.0]\n</script><script>alert(3)</script>\n"
    )
    save(
        results,
        make_result(
            BREAKOUT, 20, 3, sha="f" * 40, domain_truth={"cities": 95, "definitions": 10, "medicine": 10}
        ),
    )
    save(results, make_result("org/faithful-only", 40, 3, sha="1" * 40, mode="faithful"))
    # A network that knows nothing: no domain is measurable, so it shows no score and no rank.
    nothing = dict.fromkeys(DOMAINS, "the baseline probe is near chance (test AP 0.340, chance 0.335)")
    save(
        results,
        make_result("org/knows-nothing", 95, 3, sha="4" * 40, mode="faithful", not_measurable=nothing),
    )
    # A real, long Hub id that must wrap between its parts, never mid-word.
    save(
        results,
        make_result(
            LONG, 30, 3, sha="3" * 40, mode="faithful", quantization_note=GGUF, warnings=[f"weights: {GGUF}"]
        ),
    )
    save(results, make_result("org/quick", 40, 3, sha="2" * 40, max_per_kind=60))
    # The same model in bfloat16 (a higher score): one row per model, this run listed in its details.
    save(results, make_result("org/alpha", 97, 1, dtype="bfloat16"))
    # A forged result on an invented release: refused by the build, so it never makes a board of its own.
    save(results, make_result("org/forged", 99, 1, sha="9" * 40, dataset_name=EVIL))
    out = root / "leaderboard"
    write_leaderboard(build_leaderboard(results), out)
    return out


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: install the Debian package chromium (make system-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(board):
    srv = make_server(board, 0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield url_of(srv)
    srv.shutdown()
    srv.server_close()


class Page:
    """A page with the network cut off (only file:// and the local server), recording what goes wrong."""

    def __init__(self, browser, width: int = 1280, allowed: str = ""):
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []

        def route(r):
            url = r.request.url
            if url.startswith("file://") or (allowed and url.startswith(allowed)) or url.startswith("data:"):
                r.continue_()
            else:
                self.blocked.append(url)
                r.abort()

        self.context.route("**/*", route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

        def on_dialog(d):
            self.dialogs.append(d.message)
            d.dismiss()

        self.page.on("dialog", on_dialog)

    def models(self) -> list[str]:
        return self.page.eval_on_selector_all("#rows tr", "rows => rows.map(r => r.dataset.model)")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def page(browser, board):
    p = Page(browser)
    p.page.goto((board / "index.html").as_uri())
    yield p
    assert p.errors == [], p.errors
    assert p.blocked == [], p.blocked
    assert p.dialogs == [], p.dialogs
    p.close()


def test_page_loads_offline_and_ranks(page):
    assert page.models() == ["org/alpha", "org/beta", "org/encoder", EVIL, BREAKOUT]
    ranks = page.page.eval_on_selector_all("#rows tr td:first-child", "tds => tds.map(t => t.textContent)")
    # alpha > beta by the paired bootstrap; the rest are separated by non-overlapping CIs.
    assert ranks == ["1", "2", "3", "4", "5"]
    assert "rank groups by paired bootstrap and CI overlap" in page.page.text_content("#board-info")
    # Every column is explained.
    assert page.page.eval_on_selector_all("#legend dt", "d => d.length") == 18


def test_sorting(page):
    p = page.page
    p.click("th.c-truth_stability button")  # scores sort best first
    assert page.models()[0] == "org/alpha"
    assert p.get_attribute("th.c-truth_stability", "aria-sort") == "descending"
    p.click("th.c-truth_stability button")
    assert page.models()[0] == BREAKOUT
    assert p.get_attribute("th.c-truth_stability", "aria-sort") == "ascending"
    p.click("th.c-n_parameters button")
    assert page.models()[0] == "org/alpha"  # 8B first, the 22.7M encoder last
    assert page.models()[-1] == "org/encoder"
    p.select_option("#sort", "model")
    assert page.models() == sorted(page.models(), key=str.lower)


def test_filters(page):
    p = page.page
    p.select_option("#kind", "encoder")
    assert page.models() == ["org/encoder"]
    p.select_option("#kind", "base")
    assert page.models() == ["org/beta"]
    p.select_option("#kind", "all")
    p.select_option("#size", "gt10")
    assert page.models() == []
    assert p.is_visible("#empty")
    p.select_option("#size", "1to10")
    assert page.models() == ["org/alpha"]
    p.select_option("#size", "all")
    p.fill("#search", "ALP")
    assert page.models() == ["org/alpha"]
    p.fill("#search", "")
    # Domain view: scores and rank groups of that domain; the breakout model leads on cities (95).
    p.select_option("#domain", "cities")
    assert page.models()[0] == BREAKOUT
    assert p.text_content("#rows tr:first-child td.c-truth_stability").startswith("95.0")
    assert "cities 12" in p.text_content("#rows tr:first-child td.c-layers")
    p.select_option("#domain", "definitions")
    assert page.models()[-1] == BREAKOUT  # 10 on definitions: last


def test_board_switcher(page):
    p = page.page
    labels = p.eval_on_selector_all("#board option", "o => o.map(x => x.textContent)")
    assert labels == [
        "truthstab 1.0.0 · fixed",
        "truthstab 1.0.0 · faithful",
        "truthstab 1.0.0 · fixed · smoke test (max 60/kind)",
    ]
    assert not p.is_visible("#smoke")
    p.select_option("#board", "1")
    assert page.models() == ["org/faithful-only", LONG, "org/knows-nothing"]
    assert "protocol faithful" in p.text_content("#board-info")
    row = p.locator('#rows tr[data-model="org/knows-nothing"]')
    assert row.locator("td").first.text_content() == "—"  # unranked, although its stored value is 95
    nm = row.locator("span.nm")
    # four stability claims not measurable; the two behavioural cells say the track was not run
    assert nm.count() == 6 and nm.first.text_content() == "not measurable"
    assert [nm.nth(i).text_content() for i in (4, 5)] == ["not run", "not run"]
    assert "not run" in row.locator("td.c-behavioural_stability").get_attribute("title")
    assert "near chance" in row.locator("td.num", has=p.locator("span.nm")).first.get_attribute("title")
    assert "chance 0.400" in p.locator('#rows tr[data-model="org/faithful-only"]').text_content()
    p.select_option("#board", "2")
    assert p.is_visible("#smoke") and "wider" in p.text_content("#smoke")


def test_detail_view_and_hostile_names_stay_text(page):
    p = page.page
    # The hostile names are plain text in the table: no element was created from them.
    assert p.eval_on_selector_all("#rows img, #rows script", "n => n.length") == 0
    cell = p.locator("#rows tr", has_text="onerror").locator("td.c-model span").first
    assert cell.text_content() == EVIL
    p.locator("#rows tr", has_text="onerror").locator("button.open").click()
    assert p.is_visible("#detail")
    assert p.text_content("#detail-title") == EVIL
    body = p.locator("#detail-body")
    # The report card is shown as the text it is: hostile content stays text, nothing is parsed.
    card = body.locator("pre.card").text_content()
    assert card.startswith("truthstab report card") and EVIL in card
    assert "</script><script>alert(3)</script>" in card
    # The only image is the copied figure, and it really loaded.
    imgs = body.locator("img")
    assert imgs.count() == 1
    assert imgs.first.get_attribute("src").startswith("figures/") and imgs.first.get_attribute(
        "src"
    ).endswith("/bars.png")
    p.wait_for_function("() => document.querySelector('#detail-body img').naturalWidth === 32")
    assert body.locator("ul.warnings li").text_content() == EVIL + " warning"
    p.click("#detail-close")
    assert not p.is_visible("#detail")
    p.wait_for_timeout(200)  # give any injected handler the chance to fire (the fixture checks dialogs)


def test_one_row_per_model_other_dtype_in_details(page):
    p = page.page
    assert page.models().count("org/alpha") == 1
    assert p.text_content("#rows tr:first-child td.c-dtype") == "float32"
    p.locator("#rows tr:first-child button.open").click()
    alt = p.locator("#detail-body .alternatives tbody tr")
    assert alt.count() == 1
    assert alt.locator("td").first.text_content() == "bfloat16"
    assert alt.locator("td").nth(2).text_content().startswith("97.0")
    p.click("#detail-close")


def test_detail_shows_flip_rate_and_layer_sweep_figures_inline(page):
    p = page.page
    p.locator("#rows tr", has_text="org/alpha").locator("button.open").click()
    figs = p.locator("#detail-body .figs figure.wide")
    assert figs.count() == 2
    captions = figs.locator("figcaption").all_text_contents()
    assert captions[0].startswith("Flip rates") and captions[1].startswith("Layer sweep")
    p.wait_for_function(
        "() => [...document.querySelectorAll('#detail-body .figs img')].every(i => i.naturalWidth === 24)"
    )
    # Shown large, not as thumbnails: each spans the dialog's content width.
    widths = p.eval_on_selector_all("#detail-body .figs figure.wide img", "i => i.map(x => x.clientWidth)")
    assert min(widths) > 400, widths
    p.click("#detail-close")


def test_served_from_localhost(browser, server):
    pg = Page(browser, allowed=server)
    try:
        pg.page.goto(server)
        assert pg.models()[0] == "org/alpha"
        pg.page.locator("#rows tr", has_text="onerror").locator("button.open").click()
        pg.page.wait_for_function("() => document.querySelector('#detail-body img').naturalWidth === 32")
        assert pg.errors == [] and pg.blocked == [] and pg.dialogs == []
    finally:
        pg.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_layout_has_no_page_overflow_and_screenshot(browser, board, width):
    pg = Page(browser, width=width)
    try:
        pg.page.goto((board / "index.html").as_uri())
        overflow = pg.page.evaluate(
            "() => [document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]"
        )
        assert overflow[0] <= overflow[2] and overflow[1] <= overflow[2], overflow
        if width == 390:  # rows are cards: every cell carries its column label
            assert (
                pg.page.get_attribute("#rows tr:first-child td.c-truth_stability", "data-label")
                == "Truth stability"
            )
            assert not pg.page.is_visible("thead")
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / f"leaderboard-{width}.png"
        pg.page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        print(f"screenshot: {shot}")
        assert pg.errors == [] and pg.blocked == []
    finally:
        pg.close()


def test_empty_board_page(browser, tmp_path):
    (tmp_path / "results").mkdir()
    write_leaderboard(build_leaderboard(tmp_path / "results"), tmp_path / "out")
    pg = Page(browser)
    try:
        pg.page.goto((tmp_path / "out" / "index.html").as_uri())
        assert pg.page.text_content("#board-info") == "No scored models yet."
        assert pg.models() == []
        assert pg.errors == [] and pg.blocked == []
    finally:
        pg.close()


# Every cell's text inside its cell; cells beyond the frame's right edge only with the scroll hint shown.
CELL_CHECK = """() => {
  const wrap = document.querySelector('.table-wrap').getBoundingClientRect();
  const cells = [...document.querySelectorAll('#board-table th, #board-table td')];
  return {
    overflowing: cells.filter(c => c.scrollWidth > c.clientWidth).map(c => c.className + ': ' + c.textContent),
    beyond: cells.filter(c => c.getBoundingClientRect().right > wrap.right + 0.5).length,
    hint: !document.getElementById('scroll-hint').hidden
      && document.getElementById('scroll-hint').getBoundingClientRect().height > 0,
  };
}"""

# Where a model name's text wraps: [name, the character before the break, the character after].
BREAKS = """() => {
  const out = [];
  for (const cell of document.querySelectorAll('#rows td.c-model > a, #rows td.c-model > span:first-child')) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    let prevTop = null, prevChar = null, node;
    while ((node = walker.nextNode())) {
      for (let i = 0; i < node.length; i++) {
        const r = document.createRange();
        r.setStart(node, i); r.setEnd(node, i + 1);
        const rect = r.getClientRects()[0];
        if (!rect) continue;
        if (prevTop !== null && rect.top > prevTop + 2) out.push([cell.textContent, prevChar, node.data[i]]);
        prevTop = rect.top; prevChar = node.data[i];
      }
    }
  }
  return out;
}"""

# Does every board name fit its selector? Text width (canvas, the select's own font) vs the space inside.
BOARD_FITS = """() => {
  const sel = document.getElementById('board');
  const style = getComputedStyle(sel);
  const ctx = document.createElement('canvas').getContext('2d');
  ctx.font = style.font;
  const room = sel.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20;
  return [...sel.options].map(o => [o.textContent, ctx.measureText(o.textContent).width, room]);
}"""


@pytest.mark.parametrize("width", [390, 1280])
def test_cells_fully_visible_names_whole_and_board_names_fit(browser, board, width):
    pg = Page(browser, width=width)
    try:
        p = pg.page
        p.goto((board / "index.html").as_uri())
        for index in ("0", "1"):  # the main board and the board with the long Hub id
            p.select_option("#board", index)
            page_width = p.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            assert page_width[0] <= page_width[1], page_width
            check = p.evaluate(CELL_CHECK)
            assert check["overflowing"] == [], check
            if check["beyond"]:  # columns off-screen: only with the cue
                assert check["hint"], check
                p.eval_on_selector(".table-wrap", "w => w.scrollTo(w.scrollWidth, 0)")
                p.wait_for_function("() => document.getElementById('scroll-hint').hidden")
            # A break between two letters or digits splits a word ("SmolL" / "M2"): never.
            mid_word = [b for b in p.evaluate(BREAKS) if b[1].isalnum() and b[2].isalnum()]
            assert mid_word == [], mid_word
        fits = p.evaluate(BOARD_FITS)
        assert all(width <= room for _, width, room in fits), fits
        # The GGUF note is one warning, not two.
        p.locator("#rows tr", has_text="SmolLM2").locator("button.open").click()
        assert p.locator("#detail-body ul.warnings li").all_text_contents() == [f"weights: {GGUF}"]
        assert pg.errors == [] and pg.blocked == []
    finally:
        pg.close()

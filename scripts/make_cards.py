"""Home's cards: each lesson's own main live view, as the lesson draws it, cut out of the page.

    python scripts/make_cards.py http://127.0.0.1:8501 [--only gan1d dcgan] [--out assets]

With the app running, for every lesson in the table: open the page in presentation mode (its
larger type is what stays readable at card size), press ⚡ Load pretrained (a trained run, paused,
so charts are drawn as SVG), and screenshot the box the lesson table names as its main view
(``registry.Lesson.main``). The window is sized so that box is about TARGET_CSS_WIDTH px wide:
a card on a 1440×900 laptop is ~330 px wide, so the view's type shrinks by at most ~25 %. The PNG
records the view's width on the page (``view-css-width``), which tests/framework/test_browser_fit.py
compares with the card's drawn width. Needs playwright and Debian's chromium.
"""
from __future__ import annotations

import argparse
import io
import pathlib
import sys
import time
from urllib.parse import urlencode

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image, PngImagePlugin  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from core import registry  # noqa: E402

TARGET_CSS_WIDTH = 440          # the main view's width on the page the card is cut from
WIDER = {"adversarial": 560}    # a row of four pictures and a chart needs more room
SCALE = 1.5                     # device pixels per CSS pixel: sharp on a 1.5× laptop screen
ASPECT = 4 / 3                  # every card padded to the same shape, so the rows line up
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def open_loaded(browser, url: str, lesson: registry.Lesson, width: int):
    """The lesson in a window ``width`` px wide, with the pretrained run loaded and drawn."""
    context = browser.new_context(viewport={"width": width, "height": 1000}, device_scale_factor=SCALE)
    page = context.new_page()
    page.set_default_timeout(60000)
    query = urlencode({**lesson.live_query, "present": "true"})
    page.goto(f"{url}/{lesson.key}?{query}")
    page.locator(f".st-key-{lesson.key}_run").first.wait_for()
    page.locator(f".st-key-{lesson.key}_pretrained button").first.click()
    page.get_by_text("Loaded the pretrained run").first.wait_for()
    sel = lesson.main_selector
    page.wait_for_function(f"() => {{ const e = document.querySelector('{sel}');"
                           " return e && e.getBoundingClientRect().height > 100; }")
    time.sleep(2.0)                      # Vega's transitions and the images settle
    return context, page, page.locator(sel).first


def card(browser, url: str, lesson: registry.Lesson) -> tuple[Image.Image, float]:
    """The main view at about TARGET_CSS_WIDTH px (WIDER), padded to ASPECT; returns (image, css width)."""
    width, target = 1280, WIDER.get(lesson.key, TARGET_CSS_WIDTH)
    for _ in range(3):                   # the view's width is close to linear in the window's
        context, page, view = open_loaded(browser, url, lesson, width)
        box = view.bounding_box()
        if abs(box["width"] - target) < 40 or width in (660, 1920):
            break
        context.close()
        width = int(min(1920, max(660, width * target / box["width"])))   # 640: columns stack
    shot = Image.open(io.BytesIO(view.screenshot())).convert("RGB")
    context.close()
    w, h = shot.size
    target_w, target_h = max(w, int(h * ASPECT)), max(h, int(w / ASPECT))
    out = Image.new("RGB", (target_w, target_h), "white")
    out.paste(shot, ((target_w - w) // 2, (target_h - h) // 2))
    return out, box["width"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("url")
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--out", default=str(ROOT / "assets"))
    args = ap.parse_args()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for lesson in registry.built():
            if args.only and lesson.key not in args.only:
                continue
            img, css_width = card(browser, args.url.rstrip("/"), lesson)
            info = PngImagePlugin.PngInfo()
            info.add_text("made-by", "scripts/make_cards.py")
            info.add_text("main-view", lesson.main)
            info.add_text("view-css-width", f"{css_width:.0f}")
            path = pathlib.Path(args.out) / f"{lesson.key}.png"
            # 256 colours: a chart needs no more, and the card weighs a quarter
            img.quantize(256, method=Image.Quantize.MEDIANCUT).save(path, pnginfo=info, optimize=True)
            print(f"{path}: {img.size[0]}×{img.size[1]} px, the view {css_width:.0f} px wide on the page")
        browser.close()


if __name__ == "__main__":
    main()

"""The built book in a real browser: every page of an existing HTML build, opened in headless Chromium offline.

It never builds the book. It checks ``$GAN_BOOK_HTML`` (default: ``_build/html``) and skips, saying why, only
where there is no build, no Chromium (Debian: ``apt-get install -y chromium``; ``$GAN_BOOK_CHROMIUM`` names
another binary) or no Playwright (``pip install playwright``; no browser download: it drives the system Chromium).
Run it after a build with ``pytest tests/test_browser.py``; ``.ci/run`` runs it as a stage of its own with
``GAN_BOOK_REQUIRE_BROWSER=1``, which turns those skips into failures.

How: Playwright for Python opens each page from ``file://`` in headless Chromium, with every host name
unresolvable and every request that would leave the machine refused and recorded. A probe script, run before the
page's own scripts, waits in wall-clock time until the page has loaded, MathJax has finished and every image has
decoded; then it records each image's natural width, the math elements and how many MathJax typeset, MathJax's
error nodes, the sidebar's links, the buttons' links and every load error. A page that has not finished within
``LOAD_SECONDS`` fails. Links and cross-references are checked on the HTML files themselves.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from gan_lib.machinery.toc import toc_files

ROOT = Path(__file__).resolve().parents[1]
HTML = Path(os.environ.get("GAN_BOOK_HTML", ROOT / "_build" / "html")).resolve()
SKIP_DIRS = {"_static", "_sources", "_images", "_sphinx_design_static", "reports"}
# Jupyter Book 1 writes sphinx-thebe's config <script> twice into every page (a known upstream duplication);
# the second copy throws this, harmlessly: thebe is only loaded when a reader asks for live code.
KNOWN_ERRORS = ("Identifier 'THEBE_JS_URL' has already been declared",)
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--host-resolver-rules=MAP * ~NOTFOUND"]
LOCAL = ("file:", "data:", "blob:", "about:")
LOAD_SECONDS = 40  # the probe reports a page still busy after this long (wall clock); the driver waits a bit more

PROBE = r"""(function () {
  var errors = [];
  window.addEventListener("error", function (e) {
    var t = e.target;
    errors.push(t && t !== window && (t.src || t.href) ? "could not load " + (t.src || t.href)
                                                       : "script error: " + e.message);
  }, true);
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.images, function (i) { i.loading = "eager"; });
  });
  function all(sel) { return Array.prototype.slice.call(document.querySelectorAll(sel)); }
  function report(extra) {
    if (done) return;
    done = true;
    var maths = all(".math");
    var nav = document.querySelector(".bd-sidebar-primary");
    var r = {
      images: Array.prototype.map.call(document.images, function (i) {
        return {src: i.currentSrc || i.src, width: i.naturalWidth}; }),
      math: maths.length,
      math_typeset: maths.filter(function (m) { return m.querySelector("mjx-container"); }).length,
      math_raw: maths.filter(function (m) { return !m.querySelector("mjx-container"); })
                     .slice(0, 3).map(function (m) { return m.textContent.slice(0, 80); }),
      merror: all("mjx-merror").map(function (e) { return e.textContent.slice(0, 120); }).concat(
        all('mjx-mtext[style*="color: red"]').map(function (e) {  // an undefined macro, drawn in red by MathJax
          return "undefined macro " + Array.prototype.map.call(e.querySelectorAll("mjx-c"), function (c) {
            var m = /mjx-c([0-9A-F]+)/.exec(c.className); return m ? String.fromCodePoint(parseInt(m[1], 16)) : "";
          }).join(""); })),
      sidebar: nav ? all(".bd-sidebar-primary nav a").map(function (a) { return a.href; }) : null,
      sidebar_width: nav ? nav.getBoundingClientRect().width : 0,
      links: all("a[href]").map(function (a) { return a.href; }),
      resources: performance.getEntriesByType("resource").map(function (e) { return e.name; }),
      errors: errors
    };
    for (var k in extra) r[k] = extra[k];
    var out = document.createElement("output");
    out.id = "browser-check";
    out.textContent = JSON.stringify(r);
    document.body.appendChild(out);
  }
  var done = false, pending = "the load event";
  setTimeout(function () { if (!done) report({timed_out: "still waiting for " + pending}); }, LOAD_MS);
  window.addEventListener("load", function () {
    pending = "MathJax or an image to decode";
    var mj = window.MathJax && window.MathJax.startup && window.MathJax.startup.promise;
    var waits = [mj || Promise.resolve()].concat(Array.prototype.map.call(document.images, function (i) {
      return i.decode ? i.decode().catch(function () {}) : null; }));
    Promise.all(waits).then(function () { report({}); },
                            function (e) { report({mathjax_failed: String(e)}); });
  });
})();"""

# .ci/run sets GAN_BOOK_REQUIRE_BROWSER=1: there, a missing build or browser is a failure, not a skip.
SKIP = pytest.fail if os.environ.get("GAN_BOOK_REQUIRE_BROWSER") else pytest.skip


def chromium() -> str | None:
    for name in (os.environ.get("GAN_BOOK_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def pages() -> list[Path]:
    return sorted(p for p in HTML.rglob("*.html") if not SKIP_DIRS & set(p.relative_to(HTML).parts[:-1]))


def is_redirect(text: str) -> bool:
    return bool(re.search(r'<meta[^>]+http-equiv="refresh"', text, re.I))


@pytest.fixture(scope="module")
def build() -> Path:
    if not (HTML / "index.html").is_file():
        SKIP(f"no HTML build at {HTML}: build the book first (`jupyter-book build . --all`), "
             "or point GAN_BOOK_HTML at one")
    return HTML


def _refuse_remote(remote: list[str]):
    """A route handler: local files load; anything that would leave the machine is refused and recorded."""
    def handle(route):
        if route.request.url.startswith(LOCAL):
            return route.continue_()
        remote.append(route.request.url)
        return route.abort("internetdisconnected")
    return handle


@pytest.fixture(scope="module")
def browser(build) -> dict[str, dict]:
    """Open every page in headless Chromium; return each page's probe report (or its failure), by path."""
    exe = chromium()
    if exe is None:
        SKIP("Chromium is not installed (Debian: `apt-get install -y chromium`; or set GAN_BOOK_CHROMIUM)")
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        SKIP("Playwright for Python is not installed (`pip install playwright`; it drives the system Chromium)")
    todo = [p.relative_to(build) for p in pages() if not is_redirect(p.read_text(errors="replace"))]
    reports = {}
    with sync_playwright() as p:
        chrome = p.chromium.launch(executable_path=exe, args=ARGS)
        try:
            for rel in todo:
                context = chrome.new_context(viewport={"width": 1400, "height": 1000})
                remote: list[str] = []
                context.route("**/*", _refuse_remote(remote))
                context.add_init_script(PROBE.replace("LOAD_MS", str(LOAD_SECONDS * 1000)))
                page = context.new_page()
                try:
                    page.goto((build / rel).as_uri(), wait_until="commit")
                    page.wait_for_selector("#browser-check", state="attached", timeout=(LOAD_SECONDS + 20) * 1000)
                    report = json.loads(page.locator("#browser-check").text_content())
                    report["remote"], report["root"] = remote, build.as_uri()
                except PlaywrightError as err:
                    report = {"failed": f"the page never reported: {str(err).splitlines()[0]}"}
                finally:
                    context.close()
                reports[str(rel)] = report
        finally:
            chrome.close()
    return reports


def failures(reports: dict[str, dict], check) -> list[str]:
    out = []
    for page, report in sorted(reports.items()):
        if "failed" in report:
            out.append(f"{page}: {report['failed']}")
        else:
            out += [f"{page}: {problem}" for problem in check(page, report)]
    return out


def test_every_page_loads_with_no_network(browser):
    assert browser, "no pages found"

    def check(page, r):
        remote = r["remote"] + [u for u in r["resources"] if not u.startswith(LOCAL)]
        errors = [e for e in r["errors"] if not any(known in e for known in KNOWN_ERRORS)]
        return ([f"fetched from the network: {u}" for u in remote] + errors
                + ([f"MathJax failed: {r['mathjax_failed']}"] if "mathjax_failed" in r else [])
                + ([f"not finished after {LOAD_SECONDS} s: {r['timed_out']}"] if "timed_out" in r else []))
    assert not (bad := failures(browser, check)), "\n".join(bad)


def test_math_is_typeset_without_errors(browser):
    def check(page, r):
        problems = [f"MathJax error: {e}" for e in r["merror"]]
        if r["math"] and r["math_typeset"] < r["math"]:
            problems.append(f"{r['math'] - r['math_typeset']} of {r['math']} equations not typeset, e.g. {r['math_raw']}")
        return problems
    assert not (bad := failures(browser, check)), "\n".join(bad)
    assert any(r.get("math") for r in browser.values()), "no page has math: is this the book's build?"


def test_every_image_has_loaded(browser):
    def check(page, r):
        return [f"image did not load (natural width 0): {i['src']}" for i in r["images"] if not i["width"]]
    assert not (bad := failures(browser, check)), "\n".join(bad)
    figures = [i for r in browser.values() for i in r.get("images", []) if "/_images/" in i["src"]]
    assert figures, ("no page shows a figure from _images/: the chapters' plots are missing (was the book built "
                     "with MPLBACKEND=Agg set? Then plt.show() draws nothing into the notebook)")


def test_sidebar_lists_every_chapter(browser):
    expected = {f"{f}.html" for f in toc_files(ROOT)} - {f"{toc_files(ROOT)[0]}.html"}  # the root is the logo link

    def check(page, r):
        if page in {"genindex.html", "search.html"} and r["sidebar"] is None:
            return []
        if r["sidebar"] is None:
            return ["no sidebar"]
        listed = {u[len(r["root"]) + 1:].split("#")[0] for u in r["sidebar"] if u.startswith(r["root"])}
        missing = sorted(expected - listed)
        return ([f"sidebar does not list {missing}"] if missing else []) + (
            ["sidebar is not visible at 1400 px"] if r["sidebar_width"] < 50 else [])
    assert not (bad := failures(browser, check)), "\n".join(bad)


def test_launch_and_download_buttons(browser):
    toc = toc_files(ROOT)
    notebooks = {f"{f}.html" for f in toc if (ROOT / f"{f}.ipynb").is_file()}
    assert notebooks, "no chapter notebooks in _toc.yml"

    def check(page, r):
        if page not in {f"{f}.html" for f in toc}:
            return []
        problems = []
        source = "_sources/" + page[:-5]
        if not any(u.startswith(f"{r['root']}/{source}") for u in r["links"]):
            problems.append("no download button (a link to the page's source in _sources/)")
        if page in notebooks:
            for name, host in (("Colab", "colab.research.google.com"), ("Binder", "mybinder.org")):
                if not any(urlsplit(u).hostname and urlsplit(u).hostname.endswith(host) and page[:-5] in u
                           for u in r["links"]):
                    problems.append(f"no {name} launch button for this notebook")
            if not any(u.startswith(f"{r['root']}/{source}.ipynb") for u in r["links"]):
                problems.append("no download button for the notebook (.ipynb)")
        return problems
    assert not (bad := failures(browser, check)), "\n".join(bad)
    assert notebooks <= set(browser), f"chapter pages missing from the build: {sorted(notebooks - set(browser))}"


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name") if tag in ("a",) else ("id",):
            if a.get(key):
                self.ids.add(a[key])
        attr = {"a": "href", "link": "href", "img": "src", "script": "src", "iframe": "src", "source": "src"}.get(tag)
        if attr and a.get(attr):
            self.refs.append(a[attr])


def _parse(path: Path, cache: dict) -> _Refs:
    if path not in cache:
        parser = _Refs()
        parser.feed(path.read_text(errors="replace"))
        cache[path] = parser
    return cache[path]


def test_internal_links_and_cross_references_resolve(build):
    cache: dict[Path, _Refs] = {}
    bad = []
    for page in pages():
        for ref in _parse(page, cache).refs:
            parts = urlsplit(ref)
            if parts.scheme or parts.netloc or ref.startswith(("mailto:", "javascript:", "data:")):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            rel = page.relative_to(build)
            if not target.is_file():
                bad.append(f"{rel}: {ref} -> no such file in the build")
            elif not str(target).startswith(str(build)):
                bad.append(f"{rel}: {ref} -> points outside the build")
            elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in _parse(target, cache).ids:
                bad.append(f"{rel}: {ref} -> {target.name} has no anchor #{parts.fragment}")
    missing = [f"{f}.html" for f in toc_files(ROOT) if not (build / f"{f}.html").is_file()]
    assert not missing, f"pages of _toc.yml missing from the build (is it stale?): {missing}"
    assert not bad, "\n".join(bad)

"""The built book in a real browser: every page of an existing HTML build, opened in headless Chromium offline.

It never builds the book. It checks ``$GAN_BOOK_HTML`` (default: ``_build/html``) and skips, saying why, only
where there is no build or no Chromium (Debian: ``apt-get install -y chromium``; ``$GAN_BOOK_CHROMIUM`` names
another binary). Run it after a build with ``pytest tests/test_browser.py``; ``.ci/run`` runs it as a stage of its
own with ``GAN_BOOK_REQUIRE_BROWSER=1``, which turns those two skips into failures.

How: the build is copied to a temporary folder and a small probe script is put first in each page's <head>.
Chromium loads each page from ``file://`` with every host name unresolvable (no network); the test drives it over
its DevTools pipe (no extra package: two file descriptors and JSON messages) and waits, in wall-clock time, until
the probe has written its report into the page: once the page has loaded, MathJax has finished and every image has
decoded, it records each image's natural width, the math elements and how many MathJax typeset, MathJax's error
nodes, the sidebar's links, the buttons' links, every resource the page fetched and every load error. A page that
has not finished within ``LOAD_SECONDS`` fails. Links and cross-references are checked on the HTML files themselves.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from gan_lib.student import toc_files

ROOT = Path(__file__).resolve().parents[1]
HTML = Path(os.environ.get("GAN_BOOK_HTML", ROOT / "_build" / "html")).resolve()
SKIP_DIRS = {"_static", "_sources", "_images", "_sphinx_design_static", "reports"}
# Jupyter Book 1 writes sphinx-thebe's config <script> twice into every page (a known upstream duplication);
# the second copy throws this, harmlessly: thebe is only loaded when a reader asks for live code.
KNOWN_ERRORS = ("Identifier 'THEBE_JS_URL' has already been declared",)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--window-size=1400,1000"]
LOAD_SECONDS = 40  # the probe reports a page still busy after this long (wall clock); the driver waits a bit more

PROBE = r"""<script>(function () {
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
      merror: all("mjx-merror").map(function (e) { return e.textContent.slice(0, 120); }),
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
})();</script>"""


# .ci/run sets GAN_BOOK_REQUIRE_BROWSER=1: there, a missing build or browser is a failure, not a skip.
SKIP = pytest.fail if os.environ.get("GAN_BOOK_REQUIRE_BROWSER") else pytest.skip


class DevTools:
    """One headless Chromium, driven over its DevTools pipe: it reads commands on fd 3 and writes replies on fd 4,
    each a JSON message ended by a NUL byte (the Chrome DevTools Protocol)."""

    def __init__(self, exe: str, profile: str):
        cmd_r, self._cmd = os.pipe()
        self._out, out_w = os.pipe()

        def wire():  # in the child, before exec: move the pipe ends to fds 3 and 4, where Chromium looks
            a, b = fcntl.fcntl(cmd_r, fcntl.F_DUPFD, 100), fcntl.fcntl(out_w, fcntl.F_DUPFD, 100)
            os.dup2(a, 3)
            os.dup2(b, 4)
        self.proc = subprocess.Popen([exe, *FLAGS, "--remote-debugging-pipe", f"--user-data-dir={profile}"],
                                     preexec_fn=wire, close_fds=False, start_new_session=True, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(cmd_r)
        os.close(out_w)
        self._buffer, self._id = b"", 0

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 30) -> dict:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._cmd, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self._id:  # anything else is an event or an earlier reply
                    if "error" in reply:
                        raise RuntimeError(f"{method}: {reply['error']}")
                    return reply["result"]
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._out], [], [], left)[0]:
                raise TimeoutError(f"Chromium did not answer {method} within {timeout} s")
            chunk = os.read(self._out, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed its DevTools pipe")
            self._buffer += chunk

    def report(self, url: str, seconds: float) -> str | None:
        """Open ``url`` and return the probe's report once the page has written it (None if it never did)."""
        target = self.send("Target.createTarget", {"url": url})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = self.send("Runtime.evaluate", {"returnByValue": True, "expression":
                              "(document.getElementById('browser-check') || {}).textContent || null"}, session)
            if found["result"].get("value"):
                return found["result"]["value"]
            time.sleep(0.2)
        return None

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
            self.proc.wait(timeout=10)
        except (OSError, RuntimeError, TimeoutError, subprocess.TimeoutExpired):
            pass
        try:  # Chromium's helper processes too: they share its process group
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        os.close(self._cmd)
        os.close(self._out)


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


@pytest.fixture(scope="module")
def browser(build, tmp_path_factory) -> dict[str, dict]:
    """Open every page in headless Chromium; return each page's probe report (or its failure), by path."""
    exe = chromium()
    if exe is None:
        SKIP("Chromium is not installed (Debian: `apt-get install -y chromium`; or set GAN_BOOK_CHROMIUM)")
    copy = tmp_path_factory.mktemp("html") / "html"
    shutil.copytree(build, copy)
    todo = []
    for page in pages():
        text = page.read_text(errors="replace")
        if is_redirect(text):
            continue
        probe = PROBE.replace("LOAD_MS", str(LOAD_SECONDS * 1000))
        (copy / page.relative_to(build)).write_text(re.sub(r"<head[^>]*>", lambda m: m[0] + probe, text, count=1))
        todo.append(page.relative_to(build))

    def load(rel: Path) -> tuple[str, dict]:
        with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
            browser = DevTools(exe, profile)
            try:
                found = browser.report((copy / rel).as_uri(), LOAD_SECONDS + 20)
            except (OSError, RuntimeError, TimeoutError) as err:
                return str(rel), {"failed": f"Chromium failed on the page: {err}"}
            finally:
                browser.close()
        if found is None:
            return str(rel), {"failed": f"the probe never reported, {LOAD_SECONDS + 20} s after the page was opened"}
        report = json.loads(found)
        report["root"] = copy.as_uri()
        return str(rel), report

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(load, todo))


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
        remote = [u for u in r["resources"] if not u.startswith(("file:", "data:", "blob:"))]
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

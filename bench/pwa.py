"""Field app benchmark: what the first screen costs to load, and Lighthouse's mobile scores.

    .venv/bin/python bench/pwa.py [--no-lighthouse]

Needs the built PWA (`make pwa`). Baseline, same run: the whole built app's JavaScript and
CSS, gzipped, beside the part the first screen needs.

- first screen: the entry script and stylesheet of dist/index.html, the chunks they import
  statically, and the chunks of the routes a phone opens first (sign-in and home), as
  listed by Vite's build manifest; each file gzipped at level 9 as a server would send it.
- Lighthouse (npm `lighthouse@12.2.3`, fetched by npx; the last major that runs on Node 20)
  against the app served on loopback from a scratch SQLite database, in its default mobile
  emulation (Moto G class phone, throttled 4G), driving Debian's Chromium.

Aims: first-screen JS + CSS <= 170 KB gzipped; performance >= 90, accessibility >= 95,
best practices >= 95. Each line says met or MISSED.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "pwa" / "dist"
FIRST_ROUTES = ("src/pages/auth/Login.vue", "src/pages/Home.vue")
BUDGET_KB = 170
LIGHTHOUSE = "lighthouse@12.2.3"
AIMS = {"performance": 90, "accessibility": 95, "best-practices": 95}


def gzipped(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


def first_screen_files(manifest: dict) -> set[str]:
    """Files loaded before the first screen shows: the entry, its static imports, and the first routes."""
    entry = next(key for key, chunk in manifest.items() if chunk.get("isEntry"))
    wanted: set[str] = set()

    def take(key: str) -> None:
        chunk = manifest[key]
        if chunk["file"] in wanted:
            return
        wanted.add(chunk["file"])
        wanted.update(chunk.get("css", []))
        for imported in chunk.get("imports", []):
            take(imported)

    take(entry)
    for route in FIRST_ROUTES:
        if route in manifest:
            take(route)
    return wanted


def sizes() -> tuple[int, int, list[tuple[str, int]]]:
    manifest_path = DIST / ".vite" / "manifest.json"
    if not manifest_path.is_file():
        sys.exit("pwa/dist/.vite/manifest.json is missing: build the PWA first (make pwa)")
    manifest = json.loads(manifest_path.read_text())
    first = sorted(first_screen_files(manifest))
    every = [path for path in DIST.rglob("*") if path.suffix in (".js", ".css") and path.name != "sw.js"
             and not path.name.startswith("workbox-")]
    first_sizes = [(name, gzipped(DIST / name)) for name in first]
    return sum(size for _, size in first_sizes), sum(gzipped(path) for path in every), first_sizes


def serve() -> tuple[str, object]:
    import logging

    import flask_migrate
    from werkzeug.serving import make_server

    from backend import create_app

    instance = tempfile.mkdtemp()
    app = create_app({"DATABASE_URL": f"sqlite:///{instance}/bench.sqlite3", "INSTANCE_DIR": instance})
    with app.app_context():
        flask_migrate.upgrade()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}/", server


def lighthouse(url: str) -> dict[str, float]:
    chromium = shutil.which("chromium")
    npx = shutil.which("npx")
    if not chromium or not npx:
        sys.exit("Lighthouse needs Debian's chromium and npx on PATH")
    with tempfile.TemporaryDirectory() as workdir:
        report = Path(workdir) / "report.json"
        command = [npx, "-y", LIGHTHOUSE, url, "--quiet", "--output=json", f"--output-path={report}",
                   "--only-categories=performance,accessibility,best-practices",
                   "--chrome-flags=--headless --no-sandbox --disable-gpu"]
        subprocess.run(command, check=True, env={**os.environ, "CHROME_PATH": chromium}, cwd=workdir,
                       stdout=subprocess.DEVNULL, timeout=600)
        categories = json.loads(report.read_text())["categories"]
    return {name: round(category["score"] * 100) for name, category in categories.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-lighthouse", action="store_true", help="only the sizes")
    args = parser.parse_args()

    first, total, files = sizes()
    verdict = "met" if first <= BUDGET_KB * 1000 else "MISSED"
    print(f"first screen JS+CSS  {first / 1000:7.1f} KB gzipped   vs whole app {total / 1000:7.1f} KB   "
          f"ratio {first / total:.2f}   aim: <= {BUDGET_KB} KB {verdict}")
    for name, size in files:
        print(f"    {name:<48} {size / 1000:6.1f} KB")
    if args.no_lighthouse:
        return
    url, server = serve()
    try:
        scores = lighthouse(url)
    finally:
        server.shutdown()
    for name, aim in AIMS.items():
        score = scores.get(name)
        verdict = "met" if score is not None and score >= aim else "MISSED"
        print(f"lighthouse {name:<15} {score:>4}   aim: >= {aim} {verdict}")


if __name__ == "__main__":
    main()

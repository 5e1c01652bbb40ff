"""What the service worker precaches: every field screen, none of the supervisor's screens.

Field phones download the precache on install and on every update, over 2G-4G; the
supervisor's screens (ECharts, marker clustering) are used online and stay out of it.
"""

from __future__ import annotations

import json
import re

import pytest

from backend.web import PWA_DIST

MANIFEST = PWA_DIST / ".vite" / "manifest.json"


@pytest.fixture(scope="module")
def build() -> tuple[dict, set[str]]:
    if not MANIFEST.is_file():
        pytest.skip("pwa/dist is not built (make pwa)")
    chunks = json.loads(MANIFEST.read_text())
    precached = set(re.findall(r'url:"([^"]+)"', (PWA_DIST / "sw.js").read_text()))
    return chunks, precached


def test_every_field_screen_is_precached_with_its_styles(build):
    chunks, precached = build
    field = {source: chunk for source, chunk in chunks.items()
             if source.startswith("src/pages/") and not source.startswith("src/pages/supervise/")}
    assert len(field) >= 10
    for source, chunk in field.items():
        assert chunk["file"] in precached, f"{source} would not open offline"
        assert set(chunk.get("css", [])) <= precached, f"{source} would open offline without its styles"


def test_no_supervisor_screen_or_chart_library_is_precached(build):
    chunks, precached = build
    supervise = {source: chunk for source, chunk in chunks.items() if source.startswith("src/pages/supervise/")}
    assert {"src/pages/supervise/Dashboard.vue", "src/pages/supervise/SuperviseMap.vue"} <= set(supervise)
    for source, chunk in supervise.items():
        assert chunk["file"] not in precached, f"{source} is precached"
    # ECharts is bundled into the chart modules' chunk; Leaflet.markercluster has its own files.
    libraries = [chunk["file"] for source, chunk in chunks.items()
                 if source.endswith("charts/modules.js") or "markercluster" in source]
    assert len(libraries) >= 2 and not set(libraries) & precached
    assert not any(url.startswith("assets/supervise/") for url in precached)

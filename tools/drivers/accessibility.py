"""axe-core, the accessibility engine of browsers' own developer tools, run in the app's pages.

axe-core comes from the npm registry at a pinned version (`make test` installs it: Makefile,
$(STAMPS)/axe); its file is checked against the checksum below before it is put in a page.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mnist_app.config import ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Page

AXE_VERSION = "4.14.1"
AXE_FILE = ROOT / ".stamps" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
SERIOUS = ("serious", "critical")


@dataclass(frozen=True)
class Allowed:
    """A violation that comes from Streamlit's own markup and that the app cannot change."""

    rule: str
    selector_part: str  # a part of the offending element's CSS selector
    reason: str
    seen_with: str  # the Streamlit version it was seen with


def axe_source() -> str:
    """axe.min.js, checked against its pinned checksum."""
    data = AXE_FILE.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != AXE_SHA256:
        raise RuntimeError(f"{AXE_FILE} is not axe-core {AXE_VERSION} (sha256 {digest}); run `make test` to reinstall")
    return data.decode()


def serious_violations(page: Page, allowed: tuple[Allowed, ...] = ()) -> list[str]:
    """Every serious or critical axe-core violation on the page, one line per offending element,
    less those on the allow-list."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    found = []
    for violation in result["violations"]:
        if violation["impact"] not in SERIOUS:
            continue
        for node in violation["nodes"]:
            selector = " ".join(str(part) for part in node["target"])
            if any(a.rule == violation["id"] and a.selector_part in selector for a in allowed):
                continue
            found.append(f"{violation['impact']} {violation['id']}: {selector} — {node['failureSummary'][:300]}")
    return found

"""A few CSS rules: for phones, where every vertical pixel decides whether the answers show, and
for screen readers (text that is read aloud but not shown)."""

from __future__ import annotations

import streamlit as st

# Streamlit leaves ~6rem above the title and uses a 2.75rem title; on a phone that pushed the
# answers below the fold. Desktop layouts are left as Streamlit draws them.
PHONE_CSS = """
<style>
/* Read by screen readers, invisible on screen (the live region that announces the answers). */
.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
           clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0; }
.stElementContainer:has(.sr-only) { position: absolute; }  /* and takes no room in the layout */
/* Streamlit 1.67's image toolbar buttons (Fullscreen) show no focus of their own: a keyboard user
   would not see where they are. */
[data-testid="stBaseButton-elementToolbar"]:focus-visible { outline: 2px solid #C8102E; outline-offset: 1px; }
@media (max-width: 640px) {
  [data-testid="stMainBlockContainer"] { padding-top: 2.5rem; }
  [data-testid="stMainBlockContainer"] h1 { font-size: 1.7rem; padding-bottom: 0.25rem; }
  /* Five tabs do not fit a phone's width: wrap them instead of hiding "Room" behind a scroll arrow. */
  [data-testid="stTabs"] [role="tablist"] { flex-wrap: wrap; column-gap: 0.9rem; row-gap: 0.1rem; }
  [data-testid="stTabs"] [data-baseweb="tab-highlight"] { display: none; }
  [data-testid="stTabs"] [role="tab"][aria-selected="true"] { box-shadow: inset 0 -2px 0 currentColor; }
}
</style>
"""


def apply() -> None:
    st.html(PHONE_CSS)

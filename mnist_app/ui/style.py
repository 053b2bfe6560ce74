"""A few CSS rules for phones, where every vertical pixel decides whether the answers show."""

from __future__ import annotations

import streamlit as st

# Streamlit leaves ~6rem above the title and uses a 2.75rem title; on a phone that pushed the
# answers below the fold. Desktop layouts are left as Streamlit draws them.
PHONE_CSS = """
<style>
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

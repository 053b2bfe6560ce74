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
}
</style>
"""


def apply() -> None:
    st.html(PHONE_CSS)

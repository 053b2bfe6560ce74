"""Drivers of the real app for tests and measurements: Chromium, Streamlit's protocol, axe-core, /proc."""

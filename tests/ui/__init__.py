"""Tests of mnist_app/ui: the app's panels in Streamlit's AppTest, text alternatives, our build of the canvas."""

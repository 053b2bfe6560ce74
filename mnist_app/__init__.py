"""Handwritten digit recognition: MNIST data, preprocessing, models and a Streamlit app."""

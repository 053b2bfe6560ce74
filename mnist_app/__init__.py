"""Handwritten digit recognition: MNIST data, preprocessing, models and a Streamlit app."""

import os

# Before anything imports TensorFlow: keep its start-up chatter out of the terminal and server log.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__version__ = "0.5.0"  # stored with every shared drawing

"""Tests of mnist_app/training: train.py's runs and options, calibration, the style set."""

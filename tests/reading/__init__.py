"""Tests of mnist_app/reading: preprocessing, uploads, segmentation."""

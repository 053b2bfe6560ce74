"""Tests of mnist_app/dataset: the MNIST loader."""

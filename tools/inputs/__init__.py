"""Test inputs made apart from MNIST's training data: drawings from our strokes, degraded test digits, numbers."""

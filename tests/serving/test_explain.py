"""Inside the networks: the probes (in NumPy) give Keras's own activations, and the neighbour index finds like digits."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from mnist_app.reading.preprocess import preprocess
from mnist_app.serving.array_predictor import load_array_predictor
from mnist_app.serving.explain import AnnProbe, CnnProbe, cached_index, neighbour_caption
from mnist_app.serving.networks import ensemble_members
from tools.inputs import degrade


@pytest.fixture(scope="module")
def cnn_probe(shipped):
    return CnnProbe(shipped["cnn"])


def keras_block_outputs(model: keras.Model) -> list[keras.Layer]:
    """The Keras layers whose outputs the inside view shows: each ReLU right before a pooling layer, and the
    last convolutional ReLU."""
    layers = model.layers
    relus = [layer for layer in layers if isinstance(layer, keras.layers.ReLU) and len(layer.output.shape) == 4]
    chosen = [
        layer
        for layer, after in zip(layers, layers[1:], strict=False)
        if layer in relus and isinstance(after, keras.layers.MaxPooling2D)
    ]
    return chosen + ([relus[-1]] if relus[-1] not in chosen else [])


def test_cnn_feature_maps_are_the_layers_own_activations(shipped, cnn_probe, test_set):
    # The shipped CNN averages two networks; the probe shows the first one's layers.
    model = ensemble_members(shipped["cnn"].model)[0]
    image = test_set[0][0].astype(np.float32) / 255
    view = cnn_probe.view(image)
    assert [m.shape for m in view.blocks] == [(28, 28, 32), (14, 14, 64), (5, 5, 128)]
    for layer, maps in zip(keras_block_outputs(model), view.blocks, strict=True):
        reference = keras.Model(model.inputs, layer.output).predict(image[None, :, :, None], verbose=0)[0]
        np.testing.assert_allclose(maps, reference, rtol=1e-4, atol=1e-5)
    # The logits reproduce that network's own probabilities through softmax.
    probabilities = np.exp(view.logits - view.logits.max())
    probabilities /= probabilities.sum()
    np.testing.assert_allclose(probabilities, model.predict(image[None, :, :, None], verbose=0)[0], atol=1e-5)


def test_the_probe_knows_when_the_soft_ink_experts_answered(cnn_probe, test_set):
    """The layers shown are a member's; for blurred ink the app says the experts gave the answer."""
    digit = test_set[0][0]
    assert cnn_probe.expert_count == 2
    assert not cnn_probe.answered_by_experts(digit.astype(np.float32) / 255)
    assert cnn_probe.answered_by_experts(preprocess(degrade.blurred(digit, np.random.default_rng(0), 2.5)))


def test_ann_activations_and_template(shipped, test_set):
    model = shipped["ann"].model
    image = test_set[0][1].astype(np.float32) / 255
    view = AnnProbe(shipped["ann"]).view(image)
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)][:-1]
    for layer, units in zip(dense, view.hidden, strict=True):
        reference = keras.Model(model.inputs, layer.output).predict(image[None, :, :, None], verbose=0)[0]
        np.testing.assert_allclose(units, reference, rtol=1e-4, atol=1e-5)
    assert view.template.shape == (28, 28)


def test_an_ann_of_two_averaged_networks_shows_its_first_and_exports_both(shipped, test_set, tmp_path):
    """`ModelSpec.members` works for the ANN too: the inside view shows the first network's layers, and the
    browser's export holds both networks, whose averaged forward pass is the ensemble's."""
    from mnist_app.serving.networks import build_ann, ensemble
    from mnist_app.training.web_networks import forward, model_networks

    trained = shipped["ann"].model.get_weights()  # copies: the session's shipped model stays as it is
    first, second = build_ann(), build_ann()
    first.set_weights(trained)
    second.set_weights([weights * 0.9 for weights in trained])  # another network of the same shape
    pair = ensemble([first, second], "ann")
    image = test_set[0][1].astype(np.float32) / 255
    pair.save(tmp_path / "pair.keras")
    first.save(tmp_path / "first.keras")
    served_pair, served_first = (load_array_predictor("ann", tmp_path / f"{n}.keras", {}) for n in ("pair", "first"))
    np.testing.assert_allclose(
        AnnProbe(served_pair).view(image).template, AnnProbe(served_first).view(image).template, atol=1e-5
    )
    networks = model_networks(pair)
    assert len(networks) == 2
    batch = test_set[0][:50].astype(np.float32)[..., None] / 255
    np.testing.assert_allclose(forward(networks, batch), pair.predict(batch, verbose=0), atol=1e-5)


@pytest.mark.slow
def test_the_index_is_cached_by_model_and_data(shipped, cnn_probe, mnist, tmp_path):
    (x_train, y_train), _ = mnist
    model_path = shipped["cnn"].path
    index = cached_index(cnn_probe, model_path, x_train[:2000], y_train[:2000], folder=tmp_path)
    (cached,) = tmp_path.glob("neighbours-*.npz")
    written = cached.stat().st_mtime_ns
    again = cached_index(cnn_probe, model_path, x_train[:2000], y_train[:2000], folder=tmp_path)
    np.testing.assert_array_equal(index.features, again.features)
    assert cached.stat().st_mtime_ns == written, "read from the cache, not built again"
    other = cached_index(cnn_probe, model_path, x_train[:1000], y_train[:1000], folder=tmp_path)
    assert len(other.features) == 1000 and len(list(tmp_path.glob("neighbours-*.npz"))) == 2  # other data
    cached.write_bytes(b"damaged")
    rebuilt = cached_index(cnn_probe, model_path, x_train[:2000], y_train[:2000], folder=tmp_path)
    np.testing.assert_array_equal(rebuilt.features, index.features)


def test_a_build_that_was_killed_while_writing_leaves_nothing_behind(shipped, cnn_probe, mnist, tmp_path):
    """A server stopped mid-write leaves its temporary file (its `finally` never ran); the next build removes it."""
    (x_train, y_train), _ = mnist
    model_path = shipped["cnn"].path
    cached_index(cnn_probe, model_path, x_train[:500], y_train[:500], folder=tmp_path)
    (cached,) = tmp_path.glob("neighbours-*.npz")
    cached.unlink()
    leftover = tmp_path / f".{cached.stem}-k1lled.npz"  # named as atomic_path names its temporary files
    leftover.write_bytes(b"half an index")
    cached_index(cnn_probe, model_path, x_train[:500], y_train[:500], folder=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".npz") == [cached.name]


def test_processes_that_want_the_same_index_at_once_build_it_once(shipped, cnn_probe, mnist, tmp_path, monkeypatch):
    """Two replicas starting together: one builds, the other waits on the lock and reads what it wrote."""
    import threading

    from mnist_app.serving import explain

    (x_train, y_train), _ = mnist
    builds = []
    build = explain.build_index

    def counted(*args: object) -> explain.NeighbourIndex:
        builds.append(threading.get_ident())
        return build(*args)

    monkeypatch.setattr(explain, "build_index", counted)
    results = []

    def want() -> None:
        results.append(cached_index(cnn_probe, shipped["cnn"].path, x_train[:1000], y_train[:1000], tmp_path))

    threads = [threading.Thread(target=want) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == 2 and len(builds) == 1
    np.testing.assert_array_equal(results[0].features, results[1].features)


def test_neighbours_of_training_and_test_digits(shipped, cnn_probe, mnist):
    """On the app's own index of the 60,000 training digits (data/, shared with the app tests)."""
    (x_train, y_train), (x_test, y_test) = mnist
    index = cached_index(cnn_probe, shipped["cnn"].path, x_train, y_train)
    assert index.features.shape[0] == 60000
    own = cnn_probe.view(x_train[123].astype(np.float32) / 255).dense
    nearest, distances = index.nearest(own, 8)
    assert nearest[0] == 123 or distances[0] <= 1e-5  # itself (or an exact duplicate) at distance 0
    assert distances[0] == pytest.approx(0.0, abs=1e-5)
    right = 0
    for i in range(200):
        labels = index.labels[index.nearest(cnn_probe.view(x_test[i].astype(np.float32) / 255).dense, 8)[0]]
        right += np.bincount(labels, minlength=10).argmax() == y_test[i]
    print(f"majority of 8 neighbours right for {right}/200 test digits")
    assert right >= 196


def test_neighbour_caption():
    assert neighbour_caption(np.array([4, 4, 4, 4, 4, 4, 4, 9])) == "the closest training digits: 7 of 8 are 4s"
    assert "mix" in neighbour_caption(np.array([1, 2, 3, 4, 5, 6, 7, 8]))


def test_you_are_here_falls_in_the_cloud_of_its_own_class(mnist):
    from mnist_app.dataset.statistics import pca_2d

    (x_train, y_train), (x_test, y_test) = mnist
    digit_map = pca_2d(x_train, 3000, seed=0)
    labels = y_train[digit_map.indices]
    inside = 0
    picks = [i for i in range(len(y_test)) if y_test[i] in (0, 1)][:40]  # the two classes PCA separates best
    for i in picks:
        point = digit_map.project(x_test[i].astype(np.float32) / 255)
        cloud = digit_map.coordinates[labels == y_test[i]]
        # Within the class's own spread: at most 2.5 standard deviations from its centre on each axis.
        inside += bool(np.all(np.abs(point - cloud.mean(axis=0)) <= 2.5 * cloud.std(axis=0)))
    assert inside >= 0.95 * len(picks), inside
    # The projection is the same one the map's own points got.
    np.testing.assert_allclose(
        digit_map.project(x_train[digit_map.indices[0]].astype(np.float32) / 255), digit_map.coordinates[0], atol=1e-4
    )


def test_the_readers_probes_are_made_on_first_use_and_then_kept(shipped):
    from mnist_app.serving.reader import Reader

    reader = Reader(shipped)
    assert not reader.probes_loaded, "made only when the inside view first opens"
    cnn, ann = reader.probes
    assert isinstance(cnn, CnnProbe) and isinstance(ann, AnnProbe) and reader.probes_loaded
    assert reader.probes[0] is cnn  # made once

"""The random forest: YDF's own model, served by a flat copy of its trees that must agree with YDF."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from mnist_app.config import MODELS_DIR
from mnist_app.serving.forest import PIXELS, cached_copy_path, directory_bytes, flatten, load_forest
from mnist_app.serving.registry import load_predictors

FOREST_DIR = MODELS_DIR / "forest"


@pytest.fixture(scope="module")
def forest_cache(tmp_path_factory):
    """A cache holding a damaged copy of the shipped forest (a disk error, a half-written file)."""
    cache = tmp_path_factory.mktemp("cache")
    cached_copy_path(MODELS_DIR, cache).write_bytes(b"damaged")
    return cache


@pytest.fixture(scope="module")
def forest(forest_cache):
    """The shipped forest, flattened from YDF's own files: the damaged cached copy is rebuilt."""
    return load_forest(MODELS_DIR, cache_dir=forest_cache)


@pytest.mark.slow  # walks YDF's trees (the module's forest): the Makefile's cached copy spares make check that
def test_flat_copy_gives_exactly_what_ydf_gives(forest, test_set):
    import ydf

    x_test, _ = test_set
    pixels = x_test[:500].reshape(500, PIXELS).astype(np.float32) / 255
    reference = ydf.load_model(str(FOREST_DIR)).predict({"pixels": pixels})
    assert np.allclose(forest.predict_batch(pixels, calibrated=False), reference, atol=1e-5)
    single = np.stack([forest.predict(image.reshape(28, 28)).probabilities for image in pixels[:20]])
    assert np.allclose(single, forest.predict_batch(pixels[:20]), atol=1e-6)


@pytest.mark.slow  # every MNIST test image
def test_shipped_forest_meets_its_targets(test_predictions, test_set):
    _, y_test = test_set
    accuracy = float(np.mean(test_predictions["forest"].argmax(1) == y_test))
    print(f"forest: {accuracy:.2%} on the 10,000 MNIST test images")
    assert accuracy >= 0.965
    card = json.loads((MODELS_DIR / "forest.json").read_text())
    assert card["test_accuracy"] == pytest.approx(accuracy, abs=1e-4)
    assert card["file_bytes"] == directory_bytes(FOREST_DIR) <= 15_000_000
    assert card["train_seconds"] <= 300 and not card["quick"]
    assert card["data"]["train_images"] == 55_000 and card["data"]["validation_images"] == 5_000
    assert {"confusion_matrix", "per_class", "latency_ms", "misclassified", "size_curve", "calibration"} <= set(card)
    curve = card["size_curve"]
    assert curve[-1]["trees"] == card["hyperparameters"]["trees"] and len(curve) >= 4


@pytest.mark.slow  # walks YDF's trees
def test_a_damaged_cache_is_rebuilt_and_the_rebuilt_copy_is_reused(forest, forest_cache, tmp_path):
    """The module's forest was flattened from YDF's files over a damaged cached copy: the copy is written
    anew, and a cache holding it is read as it is, not flattened again."""
    cached = cached_copy_path(MODELS_DIR, forest_cache)
    assert np.array_equal(np.load(cached)["feature"], forest.flat.feature)  # written anew
    shutil.copy2(cached, tmp_path)
    written = (tmp_path / cached.name).stat().st_mtime_ns
    reused = load_forest(MODELS_DIR, cache_dir=tmp_path)
    assert np.array_equal(reused.flat.feature, forest.flat.feature)
    assert (tmp_path / cached.name).stat().st_mtime_ns == written  # read, not written again


def test_missing_or_corrupt_forest_names_the_file_and_the_others_still_load(tmp_path):
    for suffix in (".keras", ".json"):
        shutil.copy(MODELS_DIR / f"logreg{suffix}", tmp_path)
    predictors, problems = load_predictors(tmp_path, ("logreg", "forest"))
    assert list(predictors) == ["logreg"] and "forest" in problems[0] and "make train" in problems[0]
    (tmp_path / "forest").mkdir()
    (tmp_path / "forest" / "data_spec.pb").write_bytes(b"not a forest")
    predictors, problems = load_predictors(tmp_path, ("logreg", "forest"))
    assert list(predictors) == ["logreg"] and str(tmp_path / "forest") in problems[0] and "make train" in problems[0]


def test_predict_cli_reads_with_the_forest(tmp_path, test_set, predict_cli):
    from PIL import Image

    x_test, y_test = test_set
    Image.fromarray(x_test[0]).save(tmp_path / "digit.png")
    result = predict_cli(["--models", "forest", "--json", str(tmp_path / "digit.png")])
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout.splitlines()[0])
    assert str(y_test[0]) in json.dumps(line) and "forest" in json.dumps(line)


def test_flatten_refuses_what_it_cannot_serve():
    class Oblique:
        attributes, weights = [1, 2], [0.5, 0.5]

    class Node:
        is_leaf, condition = False, Oblique()

    class Tree:
        root = Node()

    class Model:
        def data_spec(self):
            class Column:
                def __init__(self, name):
                    self.name = name

            class Spec:
                columns = [Column(f"pixels.{i:03d}_of_784") for i in range(PIXELS)]

            return Spec()

        def iter_trees(self):
            return iter([Tree()])

        def winner_takes_all(self):
            return True

    from mnist_app.serving.model_files import ModelLoadError

    with pytest.raises(ModelLoadError, match="not supported"):
        flatten(Model())

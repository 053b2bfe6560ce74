"""Loading models safely, and the fast single-image path agreeing with Keras."""

from __future__ import annotations

import json
import shutil

import keras
import numpy as np
import pytest

from mnist_app.config import MODELS_DIR
from mnist_app.reading.model_input import model_batch
from mnist_app.serving.calibration import apply_temperature
from mnist_app.serving.model_files import ModelLoadError
from mnist_app.serving.predictor import Predictor
from mnist_app.serving.registry import load_predictor, load_predictors


@pytest.mark.parametrize("name", ["ann", "cnn", "rnn", "logreg"])
def test_fast_path_matches_model_predict(shipped, test_set, name):
    x_test, _ = test_set
    predictor = shipped[name]
    images = model_batch(x_test[:64])
    raw = predictor.model.predict(images, verbose=0)
    # The app shows calibrated probabilities: the model's own, softened by the card's temperature.
    reference = apply_temperature(raw, predictor.temperature)
    single = np.stack([predictor.predict(image[:, :, 0]).probabilities for image in images])
    batch = predictor.predict_batch(images)
    assert np.allclose(single, reference, atol=1e-5)
    assert np.allclose(batch, reference, atol=1e-5)
    assert np.allclose(predictor.predict_batch(images, calibrated=False), raw, atol=1e-5)
    assert np.array_equal(batch.argmax(1), raw.argmax(1))  # calibration never changes an answer


def test_saliency_comes_with_the_same_probabilities(shipped, test_set):
    image = test_set[0][0].astype(np.float32) / 255
    plain = shipped["cnn"].predict(image)
    explained = shipped["cnn"].predict(image, saliency=True)
    assert np.allclose(plain.probabilities, explained.probabilities, atol=1e-6)
    assert explained.saliency.shape == (28, 28)
    assert np.all(explained.saliency[image == 0] == 0)  # gradient x input: no ink, no credit
    assert explained.saliency.sum() > 0


def test_top_three_is_sorted(shipped, test_set):
    prediction = shipped["ann"].predict(test_set[0][1].astype(np.float32) / 255)
    top = prediction.top(3)
    assert [p for _, p in top] == sorted((p for _, p in top), reverse=True)
    assert top[0] == (prediction.digit, pytest.approx(prediction.confidence))


def copy_model(tmp_path, name="logreg"):
    for suffix in (".keras", ".json"):
        shutil.copy(MODELS_DIR / f"{name}{suffix}", tmp_path / f"{name}{suffix}")
    return tmp_path / f"{name}.keras"


def test_missing_model_is_skipped_with_a_message(tmp_path):
    copy_model(tmp_path, "logreg")
    predictors, problems = load_predictors(tmp_path, ("logreg", "cnn"))
    assert list(predictors) == ["logreg"]
    assert len(problems) == 1 and "cnn.keras is missing" in problems[0] and "make train" in problems[0]


def test_truncated_model_file_names_the_file_and_the_fix(tmp_path):
    path = copy_model(tmp_path)
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ModelLoadError) as error:
        load_predictor("logreg", tmp_path)
    assert str(path) in str(error.value) and "make train" in str(error.value)


def test_garbage_model_file(tmp_path):
    (tmp_path / "logreg.keras").write_text("not a model")
    predictors, problems = load_predictors(tmp_path, ("logreg",))
    assert not predictors and "logreg.keras could not be loaded" in problems[0]


def test_card_that_does_not_match_its_model(tmp_path):
    copy_model(tmp_path)
    card_path = tmp_path / "logreg.json"
    card = json.loads(card_path.read_text())
    card["parameters"] = 12345
    card_path.write_text(json.dumps(card))
    with pytest.raises(ModelLoadError, match="12345 parameters"):
        load_predictor("logreg", tmp_path)


def test_unreadable_card(tmp_path):
    copy_model(tmp_path)
    (tmp_path / "logreg.json").write_text("{ not json")
    with pytest.raises(ModelLoadError, match="not a valid model card"):
        load_predictor("logreg", tmp_path)


def test_model_with_the_wrong_input_shape(tmp_path):
    model = keras.Sequential([keras.Input((32, 32, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    model.save(tmp_path / "logreg.keras")
    with pytest.raises(ModelLoadError, match="expected"):
        load_predictor("logreg", tmp_path)


def test_model_with_code_inside_is_refused(tmp_path):
    """safe_mode: a Lambda layer's stored bytecode is never run."""
    model = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Lambda(lambda x: x * 2), keras.layers.Flatten(), keras.layers.Dense(10)]
    )
    model.save(tmp_path / "logreg.keras")
    with pytest.raises(ModelLoadError, match="could not be loaded"):
        load_predictor("logreg", tmp_path)


def test_predict_rejects_wrong_shapes(shipped):
    with pytest.raises(ValueError, match="28x28"):
        shipped["logreg"].predict(np.zeros((27, 28), np.float32))


def test_predictor_warms_up_on_creation():
    model = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")]
    )
    predictor = Predictor("logreg", model)
    assert set(predictor._single) == {(False, False), (False, True)}  # traced and run before anyone asks
    assert predictor.predict(np.ones((28, 28), np.float32)).probabilities.sum() == pytest.approx(1.0, abs=1e-5)


def test_a_predictor_made_only_to_measure_traces_what_it_is_asked_for():
    """A training run measures its model with `warm=False`: the functions it never calls are not traced."""
    model = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")]
    )
    image = np.random.default_rng(0).random((28, 28), dtype=np.float32)
    cold, warm = Predictor("logreg", model, warm=False), Predictor("logreg", model)
    assert not cold._single
    assert np.allclose(cold.predict_batch(image[None]), warm.predict_batch(image[None]))
    assert np.allclose(cold.predict(image).probabilities, warm.predict(image).probabilities)
    assert set(cold._single) == {(False, False)}
    assert np.allclose(cold.predict(image, saliency=True).saliency, warm.predict(image, saliency=True).saliency)


@pytest.mark.slow
def test_every_served_model_loads_again_and_answers_with_saliency_where_it_can():
    """A server loads every model, per replica and after a cache clear; the recurrent network has no
    saliency map (its LSTM is not run backward), and says so with None rather than failing."""
    for _ in range(2):
        predictors, problems = load_predictors()
        assert not problems
        for name, predictor in predictors.items():
            reading = predictor.predict(np.full((28, 28), 0.5, np.float32), saliency=True)
            assert (reading.saliency is not None) == (name in ("ann", "cnn", "logreg"))
            assert predictor.predict_batch(np.zeros((3, 28, 28), np.float32)).shape == (3, 10)


@pytest.mark.slow
def test_a_model_with_soft_ink_experts_loads_safely_and_routes_each_image(test_set, tmp_path):
    """Clean digits go to the members' average, blurred ones to the experts', in one batch, after a reload."""
    from PIL import Image, ImageFilter

    from mnist_app.reading.preprocess import is_soft
    from mnist_app.serving.networks import BUILDERS, ensemble

    keras.utils.set_random_seed(3)
    members, experts = [BUILDERS["logreg"]() for _ in range(2)], [BUILDERS["logreg"]() for _ in range(2)]
    ensemble(members, "cnn", experts).save(tmp_path / "cnn.keras")
    predictor = load_predictor("cnn", tmp_path)  # safe_mode: the router is a registered layer, not code
    digits = test_set[0][:20]
    blurred = [np.asarray(Image.fromarray(d).filter(ImageFilter.GaussianBlur(2.5))) for d in digits]
    images = np.concatenate([model_batch(digits), model_batch(np.stack(blurred))])
    images /= images.max(axis=(1, 2, 3), keepdims=True)  # as the preprocessing gives them: peak ink 1
    soft = np.array([is_soft(image[:, :, 0]) for image in images])
    assert soft[20:].all() and soft[:20].mean() < 0.2 and not soft[0]
    # Each branch's average over the whole batch, then each image's row from the branch it belongs to.
    by_members, by_experts = (
        np.mean([network(images).numpy() for network in group], 0) for group in (members, experts)
    )
    expected = np.where(soft[:, None], by_experts, by_members)
    assert np.allclose(predictor.predict_batch(images, calibrated=False), expected, atol=1e-5)
    # The host's choice of branch agrees with the router inside the saved model, image by image.
    assert np.allclose(predictor.model.predict(images, verbose=0), expected, atol=1e-5)
    for index in (0, -1):  # one image runs only its branch (members, experts), with saliency or without
        for saliency in (False, True):
            answer = predictor.predict(images[index, :, :, 0], saliency=saliency).probabilities
            assert np.allclose(answer, expected[index], atol=1e-5)
    assert not np.allclose(expected[:20], by_experts[:20])

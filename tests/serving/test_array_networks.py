"""The models a server answers with in NumPy (serving.array_networks) read as Keras reads them, and a server's
reading of drawings and numbers never imports TensorFlow."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from mnist_app.config import MODELS_DIR, ROOT
from mnist_app.serving.array_predictor import load_array_predictor
from mnist_app.serving.model_files import ModelLoadError, load_keras_file, load_model, read_card
from mnist_app.serving.predictor import Predictor
from mnist_app.serving.string_reader import load_string_reader
from tools.inputs.number_images import touching_drawing


@pytest.fixture(scope="module")
def keras_cnn():
    return Predictor("cnn", load_model(MODELS_DIR / "cnn.keras"), read_card(MODELS_DIR / "cnn.json"), warm=False)


def unsure_digits(x_test: np.ndarray) -> np.ndarray:
    """Two test digits laid over each other, faded: the CNN is unsure of many, so saliency maps are not tiny."""
    return (np.maximum(x_test[:40], x_test[40:80]) / 255.0 * 0.7).astype(np.float32)


@pytest.mark.parametrize("name", ["ann", "cnn", "logreg", "rnn"])
def test_numpy_models_give_keras_answers(name, shipped, test_set):
    x_test, _ = test_set
    served = shipped[name]
    keras_model = Predictor(name, load_model(served.path), served.card, warm=False)
    soft = (x_test[:100] / 255.0 * 0.45 + 0.3).astype(np.float32)  # mid-grey ink: the soft-ink experts answer
    for images in (x_test[:200], soft, unsure_digits(x_test)):
        ours, theirs = served.predict_batch(images), keras_model.predict_batch(images)
        assert np.abs(ours - theirs).max() < 1e-4
        assert (ours.argmax(1) == theirs.argmax(1)).all()
    assert served.count_params() == keras_model.model.count_params() == served.card["parameters"]


def test_the_cnns_saliency_and_features_are_kerass(shipped, keras_cnn, test_set):
    served = shipped["cnn"]
    images = unsure_digits(test_set[0])
    images = images[keras_cnn.predict_batch(images).max(1) < 0.95][:8]
    assert len(images) >= 4
    for image in images:
        ours, theirs = served.predict(image, saliency=True), keras_cnn.predict(image, saliency=True)
        assert np.abs(ours.probabilities - theirs.probabilities).max() < 1e-5
        assert np.abs(ours.saliency - theirs.saliency).max() <= 1e-3 * np.abs(theirs.saliency).max()
    assert np.abs(served.features(images) - keras_cnn.features(images)).max() < 1e-4
    assert served.members_checksum() == keras_cnn.members_checksum()  # the feature check knows its CNN


def test_the_string_reader_gives_keras_logits():
    served, keras_model = load_string_reader(MODELS_DIR), load_keras_file(MODELS_DIR / "strings.keras")
    strips = (np.random.default_rng(3).random((4, 28, 192, 1)) > 0.85).astype(np.float32)
    assert np.abs(served.logits(strips) - np.asarray(keras_model.predict_on_batch(strips))).max() < 1e-3
    assert served.count_params() == keras_model.count_params()


def test_a_network_with_layers_numpy_does_not_run_is_refused_by_name(tmp_path):
    import keras

    layers = [
        keras.Input((28, 28, 1)),
        keras.layers.LayerNormalization(),
        keras.layers.Flatten(),
        keras.layers.Dense(10),
    ]
    keras.Sequential(layers).save(tmp_path / "logreg.keras")
    with pytest.raises(ModelLoadError, match="could not be loaded .*no LayerNormalization layers"):
        load_array_predictor("logreg", tmp_path / "logreg.keras", {})


def test_a_server_reads_drawings_and_numbers_without_tensorflow(tmp_path):
    np.save(tmp_path / "number.npy", touching_drawing("7005", advance=0.35))  # the drawing tools use TensorFlow
    script = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        from mnist_app.config import MODEL_NAMES, SHOWN_MODELS
        from mnist_app.serving.reader import load_reader
        from mnist_app.ui.startup import warm_up_drawing

        reader = load_reader(names=SHOWN_MODELS, later=MODEL_NAMES)
        digit = reader.read_digit(warm_up_drawing(), SHOWN_MODELS, "light", saliency=("cnn",))
        number = reader.read_number(np.load("{tmp_path / "number.npy"}"), polarity="light")
        print(digit.predictions["cnn"].digit, "".join(str(p.digit) for p in number.predictions["cnn"]))
        print("tensorflow" in sys.modules, "keras" in sys.modules)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    answers, imported = done.stdout.splitlines()[-2:]
    assert answers == "1 7005" and imported == "False False"

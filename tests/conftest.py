"""Shared fixtures: the real MNIST data and the shipped models."""

from __future__ import annotations

import os
import random
import subprocess
from collections.abc import Callable
from functools import partial

import numpy as np
import pytest

from mnist_app.config import MODEL_NAMES, MODELS_DIR

# `make test` runs two test processes on this machine's two cores: each gets one TensorFlow thread per
# operation, not one per core, so the two do not fight over the cores. And each skips TensorFlow's graph
# optimizer (Grappler): the quick training runs take a handful of steps per network, fewer than it takes
# to win back the optimizer's own cost, while the shipped models read their test batches as fast
# either way. The app servers and training runs that tests start as processes keep the defaults.
if os.environ.get("PYTEST_XDIST_WORKER"):
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})

from mnist_app.reading.model_input import model_batch
from tests.support import computed_once, run_in_process


@pytest.fixture(scope="session")
def mnist():
    from mnist_app.dataset.mnist import load_mnist

    return load_mnist()


@pytest.fixture(scope="session")
def test_set(mnist) -> tuple[np.ndarray, np.ndarray]:
    (_, _), (x_test, y_test) = mnist
    return x_test, y_test


@pytest.fixture(scope="session")
def shipped():
    """Every shipped model, loaded the way the app loads them."""
    from mnist_app.serving.registry import load_predictors

    predictors, problems = load_predictors(MODELS_DIR, MODEL_NAMES)
    assert not problems, problems
    return predictors


@pytest.fixture(scope="session")
def reader(shipped):
    """The app's reader (`serving.reader.Reader`) over the session's models, with the shipped digit checks
    (pixels, and the CNN's features) and string reader."""
    from mnist_app.serving import feature_check
    from mnist_app.serving.digit_check import load
    from mnist_app.serving.reader import Reader
    from mnist_app.serving.string_reader import load_whole_reader

    pixels = load(MODELS_DIR)
    judge = feature_check.judge_for(feature_check.load(MODELS_DIR), shipped["cnn"], pixels)
    return Reader(shipped, [], pixels, judge, load_strings=partial(load_whole_reader, MODELS_DIR))


@pytest.fixture
def loaded_once(reader, monkeypatch) -> None:
    """`serving.reader.load_reader` hands out the session's reader instead of loading the models again
    (loading is tested on its own, and by the app's servers)."""
    from mnist_app.serving import reader as reader_module

    def already_loaded(
        models_dir: object = MODELS_DIR, names: tuple[str, ...] = MODEL_NAMES, numbers: bool = True, later=()
    ):
        strings = reader.whole_reader if numbers and reader_module.JUDGE in names else None
        return reader_module.Reader(
            reader.chosen(names),
            [],
            reader.check,
            reader.feature_judge if "cnn" in names else None,
            load_strings=strings,
            later=tuple(name for name in later if name not in names),
            load_models=lambda wanted: (reader.chosen(wanted), []),
        )

    monkeypatch.setattr(reader_module, "load_reader", already_loaded)


@pytest.fixture
def predict_cli(loaded_once, capsys) -> Callable[[list[str]], subprocess.CompletedProcess]:
    """`python -m mnist_app.predict ARGS` run in this process: the CLI's own `main`, with the session's
    loaded models. Returns the exit code and output as `subprocess.run` would."""
    from mnist_app import predict

    return lambda args: run_in_process(predict.main, args, capsys)


@pytest.fixture(scope="session")
def test_predictions(shipped, test_set, tmp_path_factory, worker_id) -> dict[str, np.ndarray]:
    """Every shipped model's calibrated probabilities for the 10,000 MNIST test images, computed once per
    run: the first test process to need them writes them for the others (four files use them)."""

    def predict_all() -> dict[str, np.ndarray]:
        images = model_batch(test_set[0])
        return {name: predictor.predict_batch(images) for name, predictor in shipped.items()}

    if worker_id == "master":  # not under xdist: nobody to share with
        return predict_all()
    return computed_once(tmp_path_factory.getbasetemp().parent / "test_predictions.npz", predict_all)


# `make test` spreads whole files over its processes (--dist loadfile), each taking the next file in this
# order when it finishes one (--no-loadscope-reorder). The order is for speed only: the longest files
# (pytest --durations) first, so that none starts near the end and runs alone. xdist's own order (most
# tests first) started test_training.py, the longest file with few tests, half-way through. Any order
# passes: `make test TEST_FILE_ORDER=reverse` (or `random`, with TEST_FILE_ORDER_SEED) runs the files in
# another order; files not named here come after these, in the order collected.
FILE_ORDER = (
    "test_training.py",
    "test_browser.py",
    "test_robustness.py",
    "test_training_options.py",
    "test_cluster.py",
    "test_preprocess.py",
    "test_live_reading.py",
    "test_forest.py",
    "test_segment.py",
    "test_app.py",
    "test_inference.py",
    "test_drawings.py",
    "test_capacity.py",
)


def file_rank(names: list[str], order: str = "longest-first", seed: int = 0) -> dict[str, int]:
    """Each test file's place in the run: FILE_ORDER's longest-first order, its reverse, or shuffled."""
    ranked = sorted(names, key=lambda name: FILE_ORDER.index(name) if name in FILE_ORDER else len(FILE_ORDER))
    if order == "reverse":
        ranked.reverse()
    elif order == "random":
        random.Random(seed).shuffle(ranked)
    elif order != "longest-first":
        raise pytest.UsageError(f"TEST_FILE_ORDER must be longest-first, reverse or random, not {order!r}")
    return {name: place for place, name in enumerate(ranked)}


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """`--dist loadfile`, but a process is given its next file only when it is down to its last test.
    xdist's own gives it two tests early, and the file then waits behind them (a minute, behind the
    cluster's or the load test's last test) while another process may have nothing to do."""
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class LastMomentFileScheduling(LoadFileScheduling):
        def _reschedule(self, node: object) -> None:
            if node.shutting_down:
                return
            if not self.workqueue:
                node.shutdown()
                return
            # A process runs a test only once it holds the next: its last test waits for this file.
            if self._pending_of(self.assigned_work[node]) > 1:
                return
            self._assign_work_unit(node)

    return LastMomentFileScheduling(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    names = list(dict.fromkeys(item.path.name for item in items))
    order, seed = os.environ.get("TEST_FILE_ORDER", "longest-first"), int(os.environ.get("TEST_FILE_ORDER_SEED", "0"))
    rank = file_rank(names, order, seed)
    items.sort(key=lambda item: rank[item.path.name])  # stable: within a file the order stays as collected


# TEST_TIMELINE=FILE appends each test's process, start and end (wall clock) to FILE: where a run's
# processes wait, to read beside the machine's CPU use.
if os.environ.get("TEST_TIMELINE"):
    import json
    import time

    _started: dict[str, float] = {}

    def pytest_runtest_logstart(nodeid: str, location: object) -> None:
        _started[nodeid] = time.time()

    def pytest_runtest_logfinish(nodeid: str, location: object) -> None:
        line = {"worker": os.environ.get("PYTEST_XDIST_WORKER", "master"), "test": nodeid}
        with open(os.environ["TEST_TIMELINE"], "a") as timeline:
            timeline.write(json.dumps(line | {"start": _started.pop(nodeid, time.time()), "end": time.time()}) + "\n")

"""The feature check's fit (mnist_app.training.feature_check): its two rules set by held-out digits."""

from __future__ import annotations

import numpy as np

from mnist_app.training.feature_check import fit


def test_the_feature_check_keeps_held_out_digits_and_names_a_letter_only_when_nearer_to_it():
    """On features drawn around ten digit means and two letter means."""
    rng = np.random.default_rng(0)
    digit_means, letter_means = rng.normal(0, 6, (10, 8)), rng.normal(0, 6, (2, 8))

    def around(means: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = np.arange(n) % len(means)
        return means[labels] + rng.normal(0, 1, (n, 8)), labels

    fitted = around(digit_means, 5000)
    letters = {letter: around(letter_means[[i]], 500)[0] for i, letter in enumerate("AB")}
    held_out, held_out_labels = around(digit_means, 2000)
    check = fit([fitted], letters, [(held_out, held_out_labels)])
    fresh, fresh_labels = around(digit_means, 2000)
    kept = [verdict.typical for verdict in check.verdicts(fresh, fresh_labels)]
    assert 0.98 <= np.mean(kept) < 1  # 99.5 % of held-out digits set both rules
    capitals, _ = around(letter_means, 200)
    verdicts = check.verdicts(capitals, np.zeros(200, int))  # read as a 0 by the network
    assert [verdict.letter for verdict in verdicts].count(None) <= 2
    assert {verdict.letter for verdict in verdicts} - {None} == {"A", "B"}
    far = check.verdicts(digit_means[:1] + 50, np.zeros(1, int))[0]
    assert not far.typical

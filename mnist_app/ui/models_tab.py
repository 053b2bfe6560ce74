"""Tab 4: compare every trained model, from the model cards in models/."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from mnist_app.config import MODEL_TITLES
from mnist_app.ui import descriptions, model_charts, resources

GALLERY_SIZE = 24


def render() -> None:
    cards = resources.model_cards()
    if not cards:
        st.warning("No trained models found in models/. Train them with `make train`.", icon="⚠️")
        return
    st.subheader("Which model is best, and at what cost")
    st.dataframe(comparison_table(cards), hide_index=True, width="stretch")
    names = [MODEL_TITLES[name] for name in cards]
    left, right = st.columns(2)
    with left:
        # Errors, not accuracy: every model is near 100 %, the differences show in the mistakes.
        errors = [len(card["misclassified"]["index"]) for card in cards.values()]
        st.plotly_chart(
            model_charts.metric_bars(
                names, errors, "Test errors (lower is better)", "misread, of 10,000 test images", "d"
            ),
            width="stretch",
            key="models-accuracy",
        )
        st.caption(descriptions.ranking(names, errors, "Test errors, of 10,000", lower_is_better=True))
    with right:
        minutes = [card["train_seconds"] / 60 for card in cards.values()]
        st.plotly_chart(
            model_charts.metric_bars(names, minutes, "Training time (2-core CPU)", "minutes", ".1f"),
            width="stretch",
            key="models-time",
        )
        st.caption(
            descriptions.ranking(names, minutes, "Training time", lower_is_better=True, unit=" min", number=".1f")
        )

    st.subheader("One model in detail")
    name = st.selectbox("Model", list(cards), format_func=MODEL_TITLES.get, key="models-choice")
    card = cards[name]
    if card.get("size_curve"):  # the forest: no epochs, but accuracy against size
        figure = model_charts.size_curve(card["size_curve"], f"{MODEL_TITLES[name]}: accuracy against size")
    else:
        figure = model_charts.training_curves(
            card.get("history", {}), f"{MODEL_TITLES[name]}: training curves", fine_tuned_after(card)
        )
    st.plotly_chart(figure, width="stretch", key="models-curves")
    if card.get("fine_tuned", {}).get("from"):
        st.caption(fine_tune_line(card))
    if card.get("members"):
        st.markdown(ensemble_line(card))
    if card.get("soft_experts"):
        st.markdown(soft_experts_line(card["soft_experts"]))
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(
            model_charts.confusion_heatmap(np.array(card["confusion_matrix"]), "Confusion matrix (diagonal: correct)"),
            width="stretch",
            key="models-confusion",
        )
        st.caption(descriptions.confusion(np.array(card["confusion_matrix"]), MODEL_TITLES[name]))
    with right:
        st.markdown("**Per digit**")
        st.dataframe(per_class_table(card), hide_index=True, width="stretch")
    show_calibration(name, card)
    show_mistakes(card)
    with st.expander("Architecture"):
        st.code(card.get("architecture", ""), language=None)
    show_tuning(resources.tuning_report())


def show_tuning(report: dict | None) -> None:
    """The ANN's hyper-parameter search (`make tune`): every trial, the best, and the verdict."""
    st.subheader("Searching the ANN's settings")
    if not report:
        st.info(
            "No search yet: `make tune` runs KerasTuner over the ANN's layers, units, dropout, learning "
            "rate and batch size (about 20 minutes) and writes models/tuning.json."
        )
        return
    head = report["head_to_head"]
    st.markdown(
        f"{report['method']}: **{len(report['trials'])} trials** in {report['search_seconds'] / 60:.0f} min, each "
        f"on {report['train_subset']:,} training images, scored on the {report['validation_images']:,} validation "
        f"images. Trained the same way, the best trial reaches {head['best']['val_accuracy']:.2%} and the shipped "
        f"settings {head['shipped']['val_accuracy']:.2%}: {report['verdict']}."
    )
    st.plotly_chart(
        model_charts.tuning_scatter(report["trials"], head["shipped"], "Every trial: accuracy against size"),
        width="stretch",
        key="models-tuning",
    )
    rows = [
        {
            "trial": t["trial"],
            "hidden units": " → ".join(str(u) for u in t["hyperparameters"]["units"]),
            "dropout": t["hyperparameters"]["dropout"],
            "learning rate": f"{t['hyperparameters']['learning_rate']:.1e}",
            "batch": t["hyperparameters"]["batch_size"],
            "validation accuracy": f"{t['val_accuracy']:.2%}",
            "parameters": f"{t['parameters']:,}",
            "epochs": t["epochs"],
            "seconds": t["seconds"],
        }
        for t in report["trials"]
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", height=300)


def fine_tuned_after(card: dict) -> int | None:
    """The epoch after which a fine-tuned model's curves continue at the lower rate."""
    fine_tuned = card.get("fine_tuned") or {}
    if "epochs" not in fine_tuned:
        return None
    return len(card.get("history", {}).get("loss", [])) - fine_tuned["epochs"]


def fine_tune_line(card: dict) -> str:
    """What a fine-tuned model started from, from its card."""
    fine_tuned, start = card["fine_tuned"], card["fine_tuned"]["from"]
    drawings = f" plus {fine_tuned['drawings']} of the room's drawings" if "drawings" in fine_tuned else ""
    return (
        f"Fine-tuned: after the model trained on {start.get('trained_at', '?')[:10]} "
        f"({start.get('test_accuracy', 0):.2%} on the test set), {fine_tuned['epochs']} more epochs at "
        f"{_rate_share(card)} on MNIST{drawings} (right of the dotted line)."
    )


def _rate_share(card: dict) -> str:
    """The fine-tuning learning rate against the one the model first trained at, as both cards record."""
    rate = card["hyperparameters"].get("learning_rate")
    first = card["fine_tuned"]["from"].get("hyperparameters", {}).get("learning_rate")
    if not rate or not first:
        return "a lower learning rate"
    return f"{rate / first:.2g}× the learning rate"


def ensemble_line(card: dict) -> str:
    """What averaging several networks bought, from the card (the curves above are the first one's)."""
    alone = " and ".join(f"{member['test_accuracy']:.2%} (seed {member['seed']})" for member in card["members"])
    return (
        f"**{len(card['members'])} networks, averaged.** Trained alike with different seeds, alone they read "
        f"{alone} of the test set; their averaged probabilities read **{card['test_accuracy']:.2%}**. "
        "The curves above are the first network's."
    )


def soft_experts_line(experts: dict) -> str:
    """Who reads blurred and low-resolution ink, and what that gains, from the card."""
    count, gain = len(experts["networks"]), experts["soft_validation"]
    return (
        f"**{count} soft-ink experts.** When most of an image's ink is mid-grey (a blurred photo, a "
        f"low-resolution scan), the answer comes from {count} networks {experts['recipe']}. On such copies of "
        f"the {gain['images']:,} validation digits the members read {gain['members']:.2%} and the experts "
        f"**{gain['experts']:.2%}**. Clean digits are hardly ever soft: the experts answered "
        f"{experts['soft_test_images']} of the 10,000 test digits."
    )


def comparison_table(cards: dict[str, dict]) -> pd.DataFrame:
    rows = [
        {
            "model": MODEL_TITLES[name],
            "test accuracy": f"{card['test_accuracy']:.2%}",
            "errors (of 10,000)": len(card["misclassified"]["index"]),
            "parameters": f"{card['parameters']:,}",
            "file size": f"{card['file_bytes'] / 1e6:.2f} MB",
            "training time": f"{card['train_seconds'] / 60:.1f} min",
            "latency per image": f"{card['latency_ms']:.2f} ms",
        }
        for name, card in cards.items()
    ]
    return pd.DataFrame(rows)


def per_class_table(card: dict) -> pd.DataFrame:
    per_class = card["per_class"]
    return pd.DataFrame(
        {
            "digit": [str(d) for d in range(10)],
            "precision": [f"{v:.2%}" for v in per_class["precision"]],
            "recall": [f"{v:.2%}" for v in per_class["recall"]],
            "F1": [f"{v:.2%}" for v in per_class["f1"]],
        }
    )


def show_calibration(name: str, card: dict) -> None:
    """The reliability diagram: is "97 % sure" right 97 % of the time?"""
    calibration = card.get("calibration")
    if not calibration:
        st.info("This model's confidence is not calibrated yet: run `python -m mnist_app.training.calibration`.")
        return
    st.markdown(
        f"**How honest is its confidence?** Temperature {calibration['temperature']:.2f}, fitted on the "
        f"{calibration['fitted_on']}. Expected calibration error on the test set: "
        f"{calibration['ece_test_before']:.2%} raw, {calibration['ece_test_after']:.2%} calibrated."
    )
    st.plotly_chart(
        model_charts.reliability_diagram(
            calibration["reliability_test_before"],
            calibration["reliability_test_after"],
            f"{MODEL_TITLES[name]}: confidence against accuracy (test set, 15 bins)",
        ),
        width="stretch",
        key="models-reliability",
    )


def show_mistakes(card: dict) -> None:
    st.markdown(f"**Test digits it got wrong** ({len(card['misclassified']['index'])} in all)")
    images = resources.test_images()
    if images is None:
        st.info("The gallery needs the MNIST test images: run `make data`.")
        return
    mistakes = card["misclassified"]
    (_, _), (_, labels) = resources.mnist()
    shown = list(zip(mistakes["index"], mistakes["predicted"], strict=True))[:GALLERY_SIZE]
    columns = st.columns(8)
    for position, (index, predicted) in enumerate(shown):
        with columns[position % 8]:
            st.image(
                images[index],
                caption=f"true {labels[index]}, said {predicted}",
                width=72,
                alt=descriptions.test_digit(
                    int(labels[index]), str(predicted), MODEL_TITLES.get(card["name"], card["name"])
                ),
            )

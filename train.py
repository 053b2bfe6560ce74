"""Train the models the app shows and write them to models/: `python train.py --help`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mnist_app.config import MODELS_DIR, TRAINED_NAMES
from mnist_app.training.recipes import TrainConfig


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    parser = argparse.ArgumentParser(description="Train the MNIST models and write them to models/.")
    parser.add_argument(
        "--models", default=",".join(TRAINED_NAMES), help="comma-separated: " + ", ".join(TRAINED_NAMES)
    )
    parser.add_argument("--epochs", type=int, help="override every model's epoch count")
    parser.add_argument("--batch-size", type=int, help="override every model's batch size")
    parser.add_argument(
        "--degraded-share", type=float, help="override the share of each batch that is a degraded copy (0-1)"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=MODELS_DIR, help="output directory (default: models/)")
    parser.add_argument("--quick", action="store_true", help="small subset, 1 epoch: a smoke test")
    parser.add_argument("--strategy", choices=["default", "mirrored"], default="default")
    parser.add_argument("--tune", choices=["ann"], help="search the model's hyper-parameters (writes tuning.json)")
    parser.add_argument(
        "--fine-tune", action="store_true", help="continue training the models in --out (a few epochs, lower rate)"
    )
    parser.add_argument(
        "--extra-data", type=Path, help="fine-tune the models in --out on MNIST plus these exported drawings (.npz)"
    )
    parser.add_argument(
        "--keep-members", action="store_true", help="ensembles: keep the members in --out, train only the missing ones"
    )
    parser.add_argument(
        "--experts-only",
        action="store_true",
        help="keep the networks of the models in --out, train only their soft-ink experts (the CNN's)",
    )
    parser.add_argument(
        "--keep-experts",
        action="store_true",
        help="fine-tuning: keep the soft-ink experts of the models in --out as they are (the CNN's)",
    )
    parser.add_argument(
        "--feature-check-only",
        action="store_true",
        help="keep the CNN in --out as it is, fit only its feature check (feature_check.npz)",
    )
    parser.add_argument(
        "--no-styles", action="store_true", help="leave the style set's training hand out of the training data"
    )
    parser.add_argument("--style-draws", type=int, help="drawings of each style in the training data (default 200)")
    args = parser.parse_args(argv)
    models = tuple(name.strip() for name in args.models.split(",") if name.strip())
    unknown = sorted(set(models) - set(TRAINED_NAMES))
    if args.extra_data is not None and not args.extra_data.is_file():
        parser.error(f"--extra-data: no such file {args.extra_data}")
    if not models or unknown:
        parser.error(f"--models takes names from {', '.join(TRAINED_NAMES)}; got {args.models!r}")
    for option in ("epochs", "batch_size"):
        value = getattr(args, option)
        if value is not None and value < 1:
            parser.error(f"--{option.replace('_', '-')} must be at least 1")
    if args.style_draws is not None and args.style_draws < 1:
        parser.error("--style-draws must be at least 1 (--no-styles leaves the style set out)")
    if args.degraded_share is not None and not 0 <= args.degraded_share <= 1:
        parser.error("--degraded-share must be between 0 and 1")
    return TrainConfig(
        models=models,
        epochs=args.epochs,
        batch_size=args.batch_size,
        degraded_share=args.degraded_share,
        seed=args.seed,
        out_dir=args.out,
        quick=args.quick,
        strategy=args.strategy,
        fine_tune=args.fine_tune,
        extra_data=args.extra_data,
        tune=args.tune,
        keep_members=args.keep_members,
        experts_only=args.experts_only,
        keep_experts=args.keep_experts,
        feature_check_only=args.feature_check_only,
        styles=not args.no_styles,
        **({"style_draws": args.style_draws} if args.style_draws else {}),
    )


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    from mnist_app.dataset.mnist import MnistUnavailableError
    from mnist_app.drawings.files import BadFile
    from mnist_app.training.run import TrainingError, run  # imports TensorFlow: after argument checks

    try:
        run(config)
    except (TrainingError, MnistUnavailableError, BadFile) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: models/ keeps the files it had before this model", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

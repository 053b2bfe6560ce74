"""`python -m mnist_app.drawings stats|export|import|forget`: the room's drawings from a terminal.

Every command uses the app's database: `MNIST_APP_DB`, or the SQLite file under data/.
Exported files hold MNIST-shaped arrays: `images` uint8 (n, 28, 28), white ink on black, and
`labels` uint8 (n,); `train.py --extra-data FILE.npz` learns from them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from mnist_app.drawings.files import BadFile, read_npz
from mnist_app.drawings.store import DrawingsError, Store
from mnist_app.drawings.summary import room_summary


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        store = Store()
        return args.command(store, args)
    except (DrawingsError, BadFile, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mnist_app.drawings", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    stats = commands.add_parser("stats", help="how many drawings, and each model's accuracy on them")
    stats.add_argument("--json", action="store_true", help="one JSON object")
    stats.set_defaults(command=_stats)
    export = commands.add_parser("export", help="write the labelled drawings as MNIST-shaped arrays")
    export.add_argument("--out", type=Path, required=True, help="the .npz file to write")
    export.set_defaults(command=_export)
    load = commands.add_parser("import", help="add drawings from an exported .npz")
    load.add_argument("file", type=Path)
    load.set_defaults(command=_import)
    forget = commands.add_parser("forget", help="delete every shared drawing")
    forget.add_argument("--yes", action="store_true", help="really delete them (required)")
    forget.set_defaults(command=_forget)
    return parser


def _stats(store: Store, args: argparse.Namespace) -> int:
    summary = room_summary(store)
    if args.json:
        print(json.dumps(summary.as_json()))
        return 0
    print(f"{summary.count} drawings in {store.where}; {summary.labelled} labelled ({summary.corrected} by a person)")
    for name, accuracy in summary.accuracy.items():
        print(f"  {name}: {accuracy:.1%} right on {summary.answered[name]}")
    return 0


def _export(store: Store, args: argparse.Namespace) -> int:
    images, labels = store.export_arrays()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, images=images, labels=labels)
    print(f"wrote {len(labels)} labelled drawings to {args.out}")
    return 0


def _import(store: Store, args: argparse.Namespace) -> int:
    images, labels = read_npz(args.file)
    count = store.import_arrays(images, labels)
    print(f"imported {count} drawings from {args.file} into {store.where}")
    return 0


def _forget(store: Store, args: argparse.Namespace) -> int:
    if not args.yes:
        print("error: this deletes every shared drawing; add --yes to do it", file=sys.stderr)
        return 2
    print(f"deleted {store.forget()} drawings from {store.where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

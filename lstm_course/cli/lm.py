"""``lstm-course lm train|generate|ngram``: the chapter-4 character language model from the shell."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

from lstm_course.cli import UsageError, ensure_writable
from lstm_course.config import profile

DEFAULT_LR = {"sgd": 1.0, "adam": 2e-3}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``lm`` command group (``train``, ``generate``, ``ngram``) to the CLI."""
    parser = subparsers.add_parser(
        "lm",
        help="train a character language model on The Time Machine, or generate text with one",
        description="Character language model on H. G. Wells' The Time Machine (chapter 4).",
    )
    commands = parser.add_subparsers(dest="command", metavar="ACTION", required=True)

    train = commands.add_parser(
        "train",
        help="train a model and save it (checkpoint, history) in a folder",
        description="Train a language model. --data book holds out the last part of the whole book, "
        "reports validation perplexity and saves the weights of the best epoch; --data d2l uses "
        "the first 10,000 characters as d2l does (no held-out text).",
    )
    train.add_argument(
        "--data",
        choices=("book", "d2l"),
        default="book",
        help="book: whole book, last --val-fraction held out (default); d2l: first "
        "--max-tokens characters, no validation",
    )
    train.add_argument("--cell", choices=("lstm", "gru", "rnn"), default="lstm", help="recurrent cell (default lstm)")
    train.add_argument(
        "--impl",
        choices=("framework", "scratch", "fused"),
        default="framework",
        help="framework: torch.nn layers; scratch: per-gate scratch cell (LSTM, GRU, RNN); "
        "fused: one matrix product for all gates (LSTM, GRU) (default framework)",
    )
    train.add_argument(
        "--hidden-size",
        "--hidden",
        dest="hidden_size",
        type=int,
        default=256,
        help="hidden units per layer (default 256; --hidden is the old name)",
    )
    train.add_argument("--layers", type=int, default=1, help="stacked layers (default 1)")
    train.add_argument("--dropout", type=float, default=0.0, help="dropout between layers (default 0)")
    train.add_argument(
        "--embedding-dim",
        "--embedding",
        dest="embedding_dim",
        type=int,
        default=0,
        help="embedding size; 0 feeds one-hot vectors as d2l does (default 0; --embedding is the old name)",
    )
    train.add_argument("--epochs", type=int, default=50, help="passes over the training text (default 50)")
    train.add_argument("--batch-size", type=int, default=32, help="parallel sequences per batch (default 32)")
    train.add_argument("--num-steps", type=int, default=35, help="time steps per batch (default 35)")
    train.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd", help="default sgd")
    train.add_argument("--lr", type=float, default=None, help="learning rate (default 1.0 for sgd, 0.002 for adam)")
    train.add_argument("--clip", type=float, default=1.0, help="maximum gradient norm, 0 = no clipping (default 1)")
    train.add_argument(
        "--plateau-decay",
        type=float,
        default=None,
        metavar="FACTOR",
        help="with --data book: multiply the learning rate by FACTOR (e.g. 0.5) after each "
        "epoch that does not improve the validation perplexity",
    )
    train.add_argument(
        "--random-iter", action="store_true", help="random sampling of subsequences instead of sequential partitioning"
    )
    train.add_argument("--max-tokens", type=int, default=10000, help="characters used with --data d2l (default 10000)")
    train.add_argument(
        "--val-fraction",
        type=float,
        default=0.1,
        help="share of the book held out at its end with --data book (default 0.1)",
    )
    train.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 or mps (default auto)")
    train.add_argument("--threads", type=int, default=None, help="CPU threads for PyTorch (default: PyTorch's choice)")
    train.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    train.add_argument("--out", default="runs/lm", help="output folder (default runs/lm)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(func=_train)

    gen = commands.add_parser(
        "generate",
        help="continue a prefix with a trained model",
        description="Generate text with a model saved by `lstm-course lm train`.",
    )
    gen.add_argument("run", help="folder written by `lm train --out`, or a checkpoint file")
    gen.add_argument("--prefix", default="time traveller", help='start of the text (default "time traveller")')
    gen.add_argument("--num-preds", type=int, default=100, help="characters to generate (default 100)")
    gen.add_argument(
        "--temperature", type=float, default=0.0, help="0 = greedy (default); > 0 samples, below 1 is more conservative"
    )
    gen.add_argument(
        "--top-k",
        type=int,
        default=None,
        help="sample among the k most likely characters only (with --temperature > 0)",
    )
    gen.add_argument("--samples", type=int, default=1, help="how many continuations to print (default 1)")
    gen.add_argument("--seed", type=int, default=0, help="random seed of the sampling (default 0)")
    gen.add_argument(
        "--normalize",
        action="store_true",
        help="lower-case the prefix and turn non-letters into spaces, as the training text was",
    )
    gen.add_argument("--device", default="cpu", help="device to run on (default cpu)")
    gen.set_defaults(func=_generate)

    ngram = commands.add_parser(
        "ngram",
        help="validation perplexity of the Kneser-Ney n-gram baseline",
        description="Fit character n-gram models (interpolated Kneser-Ney) on the "
        "training part of the book and report validation perplexity per n.",
    )
    ngram.add_argument("--max-order", type=int, default=10, help="largest n tried (default 10)")
    ngram.add_argument("--val-fraction", type=float, default=0.1, help="held-out share of the book (default 0.1)")
    ngram.add_argument(
        "--batch-size",
        type=int,
        default=32,
        help="streams the validation text is cut into, as for the LSTM (default 32)",
    )
    ngram.add_argument("--num-steps", type=int, default=35, help="as for the LSTM (default 35)")
    ngram.set_defaults(func=_ngram)


def _positive(name: str, value: float | int | None) -> None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise UsageError(f"{name} must be positive and finite, got {value}")


def _finite(name: str, value: float | None) -> None:
    if value is not None and not math.isfinite(value):
        raise UsageError(f"{name} must be a finite number, got {value}")


def check_threads(threads: int | None) -> None:
    """Refuse a ``--threads`` value that is not positive or exceeds the machine's CPUs."""
    _positive("--threads", threads)
    available = os.cpu_count() or 1
    if threads is not None and threads > available:
        raise UsageError(f"--threads {threads}: this machine has {available} CPU threads; use at most {available}")


def _device(name: str):
    from lstm_course.runtime import get_device

    try:
        return get_device(name)
    except (RuntimeError, ValueError) as exc:
        raise UsageError(f"--device {name}: {exc}") from None


def _check_train_args(args: argparse.Namespace) -> None:
    profile()  # an unknown LSTM_COURSE_PROFILE is refused here as in every command
    for name in ("lr", "clip", "dropout", "val_fraction", "plateau_decay"):
        _finite("--" + name.replace("_", "-"), getattr(args, name))
    for name in ("epochs", "hidden_size", "layers", "batch_size", "num_steps", "max_tokens"):
        _positive("--" + name.replace("_", "-"), getattr(args, name))
    check_threads(args.threads)
    _positive("--lr", args.lr)
    if args.clip < 0:
        raise UsageError(f"--clip must be >= 0, got {args.clip}")
    if args.embedding_dim < 0:
        raise UsageError(f"--embedding-dim must be >= 0, got {args.embedding_dim}")
    if not 0 <= args.dropout < 1:
        raise UsageError(f"--dropout must be in [0, 1), got {args.dropout}")
    if not 0 < args.val_fraction < 1:
        raise UsageError(f"--val-fraction must be in (0, 1), got {args.val_fraction}")
    if args.plateau_decay is not None and not 0 < args.plateau_decay < 1:
        raise UsageError(f"--plateau-decay must be in (0, 1), got {args.plateau_decay}")
    if args.plateau_decay is not None and args.data != "book":
        raise UsageError("--plateau-decay needs validation text: use it with --data book")
    ensure_writable(args.out, option="--out", folder=True)


def _train(args: argparse.Namespace) -> int:
    _check_train_args(args)
    out = Path(args.out)

    import torch

    from lstm_course.data import timemachine as tm
    from lstm_course.runtime import set_seed
    from lstm_course.torch.lm import CHECKPOINT_NAME, DivergedError, LMConfig, build_lm, train_lm
    from lstm_course.torch.sizing import check_fits

    if args.threads:
        torch.set_num_threads(args.threads)
    device = _device(args.device)
    set_seed(args.seed)
    try:
        if args.data == "d2l":
            train_iter, vocab = tm.load_time_machine(
                args.batch_size, args.num_steps, use_random_iter=args.random_iter, max_tokens=args.max_tokens
            )
            val_iter = None
        else:
            train_iter, val_iter, vocab = tm.load_time_machine_splits(
                args.batch_size, args.num_steps, use_random_iter=args.random_iter, val_fraction=args.val_fraction
            )
        config = LMConfig(
            len(vocab),
            cell=args.cell,
            impl=args.impl,
            hidden_size=args.hidden_size,
            num_layers=args.layers,
            dropout=args.dropout,
            embedding_dim=args.embedding_dim,
        )
        check_fits(
            lambda: build_lm(config), device=device, what=f"--hidden-size {args.hidden_size} x --layers {args.layers}"
        )
        model = build_lm(config)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    lr = args.lr if args.lr is not None else DEFAULT_LR[args.optimizer]
    print(
        f"data: {args.data}, {len(train_iter.corpus)} training tokens"
        + (f", {len(val_iter.corpus)} validation tokens" if val_iter else " (no validation text)")
        + f"; vocabulary {len(vocab)}; model {args.cell}/{args.impl}, hidden {args.hidden_size} x {args.layers}"
        + f"; {args.optimizer} lr={lr}; device {device}"
    )
    if (out / CHECKPOINT_NAME).is_file():
        print(f"note: {out} already holds a run; it is replaced when this one has finished")
    settings = {k: v for k, v in vars(args).items() if k != "func"}
    settings["lr"] = lr
    try:
        history = train_lm(
            model,
            train_iter,
            epochs=args.epochs,
            lr=lr,
            optimizer=args.optimizer,
            clip=args.clip or None,
            val_iter=val_iter,
            device=device,
            progress=not args.quiet,
            plateau_decay=args.plateau_decay,
            restore_best=val_iter is not None,
            desc=f"{args.cell}/{args.impl}",
        )
    except DivergedError as exc:
        hint = "" if args.clip else " (e.g. --clip 1)"
        if exc.kept_epoch is None:
            print(f"lstm-course: error: training diverged: {exc}{hint}; nothing was saved", file=sys.stderr)
            return 1
        path = _save_run(out, model, vocab, config, settings, exc.history, args)
        print(
            f"lstm-course: error: training diverged: {exc}{hint}; the weights of epoch {exc.kept_epoch} "
            f"are saved in {path}",
            file=sys.stderr,
        )
        return 1
    path = _save_run(out, model, vocab, config, settings, history, args)
    line = f"train perplexity {history.train_ppl[-1]:.3f}"
    if history.val_ppl:
        line += (
            f", validation perplexity {history.val_ppl[-1]:.3f} "
            f"(best {history.best_val_ppl:.3f} at epoch {history.best_epoch}, whose weights are saved)"
        )
    print(f"{line}; {history.mean_tokens_per_s():.0f} tokens/s; {sum(history.seconds):.0f} s of training")
    print(f"saved {path}")
    return 0


def _save_run(out: Path, model, vocab, config, settings: dict, history, args: argparse.Namespace) -> Path:
    """Write checkpoint, ``history.json`` and ``history.png`` as one unit, the checkpoint last."""
    from lstm_course.results import atomic_write_files
    from lstm_course.torch.lm import CHECKPOINT_NAME, CheckpointError, encode_checkpoint

    try:
        files = {
            out / "history.json": json.dumps({"settings": settings, **history.to_dict()}, indent=1, allow_nan=False),
            out / "history.png": _plot_png(history, f"{args.cell}/{args.impl}, data={args.data}"),
            out / CHECKPOINT_NAME: encode_checkpoint(
                model, vocab, config, extra={"settings": settings, "history": history.to_dict()}
            ),
        }
        atomic_write_files(files)
    except (CheckpointError, ValueError) as exc:
        raise UsageError(f"the run cannot be saved: {exc}") from None
    except OSError as exc:
        raise UsageError(
            f"--out {out}: cannot write the run ({exc.strerror or exc}); any earlier run there is unchanged"
        ) from None
    return out / CHECKPOINT_NAME


def _plot_png(history, title: str) -> bytes:
    import io

    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import pyplot as plt

    ax = history.plot(title=title)
    buffer = io.BytesIO()
    try:
        ax.figure.savefig(buffer, format="png", dpi=100)
    finally:
        plt.close(ax.figure)
    return buffer.getvalue()


def _generate(args: argparse.Namespace) -> int:
    _positive("--num-preds", args.num_preds)
    _positive("--samples", args.samples)
    _positive("--top-k", args.top_k)
    _finite("--temperature", args.temperature)
    if args.temperature < 0:
        raise UsageError(f"--temperature must be >= 0, got {args.temperature}")
    if args.top_k is not None and args.temperature == 0:
        raise UsageError("--top-k applies to sampling: give --temperature > 0 as well")
    from lstm_course.data.timemachine import normalize
    from lstm_course.torch.lm import CheckpointError, UnknownTokenError, generate, load_checkpoint

    device = _device(args.device)
    try:
        ckpt = load_checkpoint(args.run, device=device)
    except (FileNotFoundError, CheckpointError) as exc:
        raise UsageError(str(exc)) from None
    prefix = normalize(args.prefix) if args.normalize else args.prefix
    for k in range(args.samples):
        try:
            text = generate(
                ckpt.model,
                ckpt.vocab,
                prefix,
                args.num_preds,
                temperature=args.temperature,
                top_k=args.top_k,
                seed=args.seed + k,
            )
        except UnknownTokenError as exc:
            raise UsageError(
                f"the prefix has characters the model never saw: {', '.join(map(repr, exc.tokens))}; "
                f"pass --normalize to lower-case it and turn other characters into spaces"
            ) from None
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        print(text)
        sys.stdout.flush()
    return 0


def _ngram(args: argparse.Namespace) -> int:
    for name in ("max_order", "batch_size", "num_steps"):
        _positive("--" + name.replace("_", "-"), getattr(args, name))
    if not 0 < args.val_fraction < 1:
        raise UsageError(f"--val-fraction must be in (0, 1), got {args.val_fraction}")
    from lstm_course.data.timemachine import load_time_machine_splits
    from lstm_course.lm import select_order, streams_of

    try:
        train_iter, val_iter, vocab = load_time_machine_splits(
            args.batch_size, args.num_steps, val_fraction=args.val_fraction
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    selection = select_order(train_iter.corpus, streams_of(val_iter), len(vocab), orders=range(1, args.max_order + 1))
    for n, ppl in selection.perplexities.items():
        print(f"n={n:2d}  validation perplexity {ppl:.3f}{'  <- best' if n == selection.best_order else ''}")
    return 0

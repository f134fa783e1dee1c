"""``lstm-course seq2seq train|evaluate|translate``: the chapter-8 number reader from the shell.

``translate 20503 10010`` prints one Chinese reading per numeral; characters outside the
model's source vocabulary (anything but the digits it was trained on) get a one-line error.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lstm_course.cli import UsageError, positive_int
from lstm_course.cli.sentiment import _one_line_errors

SPLITS = ("test", "valid", "long")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``seq2seq`` group with its ``train``, ``evaluate`` and ``translate`` commands."""
    parser = subparsers.add_parser("seq2seq", help="train, evaluate and use the number-reading encoder-decoder")
    _one_line_errors(parser)
    commands = parser.add_subparsers(dest="command", metavar="ACTION", required=True)

    train = commands.add_parser("train", help="train an LSTM encoder-decoder: numerals -> Chinese readings")
    train.add_argument("--attention", choices=("additive", "dot", "none"), default="additive")
    train.add_argument(
        "--train-digits",
        type=positive_int,
        metavar="N",
        help="longest numbers seen in training (default from the profile)",
    )
    train.add_argument("--hidden-size", type=positive_int, metavar="N")
    train.add_argument("--epochs", type=positive_int, metavar="N")
    train.add_argument("--batch-size", type=positive_int, metavar="N")
    train.add_argument("--lr", type=float, metavar="LR", help="Adam learning rate")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", default="cpu", help="cpu, cuda, mps (default: cpu)")
    train.add_argument("--out", metavar="PATH", help="checkpoint file (default: the course cache)")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.set_defaults(func=_train)
    _one_line_errors(train)

    evaluate = commands.add_parser("evaluate", help="exact match and token accuracy of a checkpoint")
    _checkpoint_argument(evaluate)
    evaluate.add_argument(
        "--split", choices=SPLITS, default="test", help="test/valid: lengths seen in training; long: longer numbers"
    )
    evaluate.add_argument("--beam", type=positive_int, default=1, metavar="W", help="beam width (1: greedy)")
    evaluate.set_defaults(func=_evaluate)
    _one_line_errors(evaluate)

    translate = commands.add_parser("translate", help="read numerals aloud in Chinese")
    translate.add_argument("numbers", nargs="+", metavar="NUMBER", help="numerals such as 20503")
    _checkpoint_argument(translate)
    translate.add_argument("--beam", type=positive_int, default=1, metavar="W", help="beam width (1: greedy)")
    translate.set_defaults(func=_translate)
    _one_line_errors(translate)


def _checkpoint_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--checkpoint", metavar="PATH", help="model file written by `seq2seq train` (default: the course cache)"
    )


def _train(args: argparse.Namespace) -> int:
    import torch

    from lstm_course.seq2seq import checkpoint as C
    from lstm_course.seq2seq.data import build_vocabs, make_splits, task_settings
    from lstm_course.seq2seq.evaluate import evaluate
    from lstm_course.seq2seq.model import Seq2Seq, model_config
    from lstm_course.seq2seq.train import fit, train_config

    if args.lr is not None and args.lr <= 0:
        raise UsageError(f"--lr must be positive, got {args.lr}")
    task_overrides = {"seed": args.seed}
    if args.train_digits:
        if args.train_digits > 15:
            raise UsageError(f"--train-digits must be at most 15, got {args.train_digits}")
        task_overrides.update(train_digits=args.train_digits, long_digits=args.train_digits + 1)
    task = task_settings(**task_overrides)
    print(f"生成数据（训练用 1–{task.train_digits} 位数）……", flush=True)
    splits = make_splits(task)
    src_vocab, tgt_vocab = build_vocabs(splits.train)
    sizes = splits.sizes()
    print(
        f"训练 {sizes['train']:,} 条，验证 {sizes['valid']:,} 条，测试 {sizes['test']:,} 条，"
        f"更长的数 {sizes['long']:,} 条",
        flush=True,
    )
    overrides = {"attention": args.attention}
    if args.hidden_size:
        overrides["hidden_size"] = args.hidden_size
    train_overrides = {
        k: v for k, v in {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr}.items() if v is not None
    }
    cfg = train_config(seed=args.seed, device=args.device, **train_overrides)
    try:
        torch.device(args.device)
    except RuntimeError as exc:
        raise UsageError(f"--device: {str(exc).splitlines()[0]}") from None
    torch.manual_seed(args.seed)
    model = Seq2Seq(model_config(len(src_vocab), len(tgt_vocab), **overrides))
    try:
        history = fit(model, splits.train, splits.valid, src_vocab, tgt_vocab, cfg, progress=not args.no_progress)
    except (RuntimeError, AssertionError) as exc:  # e.g. an unavailable --device
        raise UsageError(str(exc).splitlines()[0]) from None
    model.cpu()
    test = evaluate(model, splits.test, src_vocab, tgt_vocab)
    out = Path(args.out) if args.out else C.default_checkpoint()
    try:
        C.save_checkpoint(
            out, model, src_vocab, tgt_vocab, task, extra={"train": cfg.to_dict(), "best_epoch": history.best_epoch}
        )
    except OSError as exc:
        raise UsageError(f"--out: cannot write {out} ({exc.strerror})") from None
    print(
        f"最佳验证完全匹配率 {history.best_valid_exact:.4f}（第 {history.best_epoch} 轮），"
        f"测试 {test.exact:.4f}，用时 {history.seconds:.0f} 秒"
    )
    print(f"模型已保存到 {out}")
    return 0


def _load(path: str | None):
    from lstm_course.seq2seq import checkpoint as C

    path = Path(path) if path else C.default_checkpoint()
    if not path.is_file():
        raise UsageError(f"no model at {path}; train one with `lstm-course seq2seq train` or pass --checkpoint PATH")
    try:
        return C.load_checkpoint(path)
    except C.CheckpointError as exc:
        raise UsageError(str(exc)) from None


def _evaluate(args: argparse.Namespace) -> int:
    from lstm_course.seq2seq.data import make_splits
    from lstm_course.seq2seq.evaluate import accuracy_by_length, evaluate

    ckpt = _load(args.checkpoint)
    pairs = getattr(make_splits(ckpt.task), args.split)
    result = evaluate(ckpt.model, pairs, ckpt.src_vocab, ckpt.tgt_vocab, width=args.beam)
    name = {"test": "测试集", "valid": "验证集", "long": "更长的数"}[args.split]
    how = "贪心解码" if args.beam == 1 else f"束搜索（宽度 {args.beam}）"
    print(
        f"{name}（{len(pairs):,} 条，{how}）：完全匹配率 {result.exact:.4f}，"
        f"词元准确率 {result.token_acc:.4f}，用时 {result.seconds:.2f} 秒"
    )
    for digits, acc in accuracy_by_length(pairs, result.correct).items():
        print(f"  {digits:2d} 位数：{acc:.4f}")
    return 0


def _translate(args: argparse.Namespace) -> int:
    from lstm_course.seq2seq.data import unknown_characters
    from lstm_course.seq2seq.decode import translate

    ckpt = _load(args.checkpoint)
    for i, text in enumerate(args.numbers, 1):
        bad = unknown_characters(text, ckpt.src_vocab)
        if not text.strip():
            raise UsageError(f"number {i} is empty; give a numeral such as 20503")
        if bad:
            raise UsageError(
                f"{text!r} contains characters the model cannot read: {' '.join(map(repr, bad))}; "
                "give numerals made of the digits 0-9"
            )
    longest = ckpt.task.train_digits
    for text, out in zip(
        args.numbers,
        translate(ckpt.model, args.numbers, ckpt.src_vocab, ckpt.tgt_vocab, width=args.beam),
        strict=True,
    ):
        note = f"  （注意：超过训练时的 {longest} 位，结果不可靠）" if len(text) > longest else ""
        print(f"{text}\t{out}{note}")
    return 0

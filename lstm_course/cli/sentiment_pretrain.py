"""``lstm-course sentiment pretrain`` and ``sentiment train --pretrained LM.pt`` (ULMFiT).

``pretrain`` trains the review language model of :mod:`lstm_course.torch.sentiment.pretrain`
on the training split's text and saves it (atomically); ``train --pretrained`` builds a
unidirectional classifier from it and fine-tunes it with
:mod:`lstm_course.torch.sentiment.transfer`.  Both prepare the data exactly as ``train`` does,
so the same ``--tokenizer/--data/--train-size/--max-len/--seed`` give the same vocabulary;
a checkpoint with another vocabulary is a one-line error.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from lstm_course.cli import UsageError, check_input_file, ensure_writable, positive_int
from lstm_course.config import profile

__all__ = ["register_pretrain", "train_pretrained"]


def register_pretrain(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``pretrain`` to the ``sentiment`` group; returns its parser."""
    parser = commands.add_parser("pretrain", help="pre-train an LSTM language model on the training reviews")
    parser.add_argument("--tokenizer", choices=("word", "char"), default="word", help="as in train (default: word)")
    parser.add_argument("--data", metavar="CSV", help="your own CSV/zip with columns cat,label,review")
    parser.add_argument("--train-size", type=positive_int, metavar="N", help="a stratified subset of N reviews")
    parser.add_argument("--max-len", type=positive_int, metavar="N", help="tokens kept per review")
    parser.add_argument("--embedding-dim", type=positive_int, metavar="N")
    parser.add_argument("--hidden-size", type=positive_int, metavar="N")
    parser.add_argument("--layers", type=positive_int, metavar="N", help="stacked LSTM layers (default 1)")
    parser.add_argument(
        "--output-size", type=positive_int, metavar="N", help="predict only the N most frequent tokens (softmax cost)"
    )
    parser.add_argument("--epochs", type=positive_int, metavar="N")
    parser.add_argument("--batch-size", type=positive_int, metavar="N")
    parser.add_argument("--lr", type=float, metavar="LR", help="Adam learning rate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default=None, help="cpu, cuda, mps (default: best available)")
    parser.add_argument("--out", metavar="PATH", required=True, help="language-model checkpoint to write")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.set_defaults(func=_pretrain)
    return parser


def _prepare(args: argparse.Namespace):
    from lstm_course.torch import sentiment as S

    profile()
    if args.data:
        check_input_file("--data", args.data)
    overrides = {"source": args.data, "seed": args.seed}
    if args.train_size:
        overrides["train_size"] = args.train_size
    if args.max_len:
        overrides["max_len"] = args.max_len
    try:
        return S.prepare_data(S.data_settings(args.tokenizer, **overrides), progress=not args.no_progress)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _pretrain(args: argparse.Namespace) -> int:
    from lstm_course.torch import sentiment as S
    from lstm_course.torch.sentiment import pretrain as P

    if args.lr is not None and not (math.isfinite(args.lr) and args.lr > 0):
        raise UsageError(f"--lr must be a positive finite number, got {args.lr}")
    out = ensure_writable(args.out, option="--out", folder=False)
    data = _prepare(args)
    sizes = {"embedding_dim": args.embedding_dim, "hidden_size": args.hidden_size, "num_layers": args.layers}
    sizes["output_size"] = args.output_size
    try:
        config = P.lm_config(data.vocab, **{k: v for k, v in sizes.items() if v is not None})
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    train = {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr, "device": args.device}
    train_cfg = P.pretrain_config(seed=args.seed, **{k: v for k, v in train.items() if v is not None})
    print(
        f"语言模型：训练 {len(data.train):,} 条评论，词表 {len(data.vocab):,}，输出层 {config.output_size:,}",
        flush=True,
    )
    try:
        lm, history = P.pretrain_lm(data, config=config, train=train_cfg)
    except RuntimeError as exc:  # e.g. an unavailable --device
        raise UsageError(str(exc).splitlines()[0]) from None
    try:
        P.save_lm(out, lm, data, history, extra={"train": train_cfg.to_dict()})
    except S.CheckpointError as exc:
        raise UsageError(f"the language model cannot be saved: {exc}") from None
    except OSError as exc:
        raise UsageError(f"cannot write {out} ({exc.strerror or exc})") from None
    print(f"验证困惑度 {history.val_ppl[-1]:.1f}；语言模型已保存到 {out}")
    return 0


def train_pretrained(args: argparse.Namespace, data, train_cfg, out: Path) -> int:
    """``sentiment train --pretrained LM.pt``: fine-tune a classifier built from the LM, save it."""
    from lstm_course.torch import sentiment as S
    from lstm_course.torch.sentiment import pretrain as P
    from lstm_course.torch.sentiment import transfer as T

    path = check_input_file("--pretrained", args.pretrained)
    given = [f"--{n.replace('_', '-')}" for n in ("embedding_dim", "hidden_size", "layers") if getattr(args, n, None)]
    if given:
        raise UsageError(f"{', '.join(given)}: the sizes come from the --pretrained language model; leave them out")
    try:
        lm = P.load_lm(path, vocab=data.vocab).model
    except S.CheckpointError as exc:
        raise UsageError(
            f"--pretrained: {exc} (pre-train with the same --tokenizer/--data/--train-size/--seed)"
        ) from None
    overrides = {"dropout": args.dropout} if getattr(args, "dropout", None) is not None else {}
    mode = getattr(args, "fine_tune", None) or "ulmfit"
    from lstm_course.runtime import set_seed

    set_seed(train_cfg.seed)  # the output layer is initialised from the training seed
    try:
        net = T.transfer_weights(lm, S.SentimentLSTM(T.classifier_config(lm, **overrides)))
        tune = T.fine_tune if mode == "ulmfit" else S.fit
        history = tune(net, data.train, data.valid, train_cfg, progress=not args.no_progress)
    except RuntimeError as exc:
        raise UsageError(str(exc).splitlines()[0]) from None
    try:
        S.save_trained(out, net, data, history, train_cfg, extra={"pretrained": str(path), "fine_tune": mode})
    except S.CheckpointError as exc:
        raise UsageError(f"the model cannot be saved: {exc}") from None
    except OSError as exc:
        raise UsageError(f"cannot write {out} ({exc.strerror or exc})") from None
    print(f"最佳验证准确率 {history.best_valid_acc:.4f}（第 {history.best_epoch} 轮），用时 {history.seconds:.0f} 秒")
    print(f"模型已保存到 {out}")
    return 0

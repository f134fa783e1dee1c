"""``lstm-course sentiment train|evaluate|predict``: the chapter-7 review classifier from the shell.

``predict`` with texts prints one line per text; without texts (and without ``--file``) it
starts an interactive loop (``q``/``quit``/Ctrl-D to leave); with ``--file`` it classifies every
line of a UTF-8 file and writes one CSV row per input line, including lines it cannot read.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import sys
from pathlib import Path

from lstm_course.cli import UsageError, check_input_file, ensure_writable, positive_int
from lstm_course.config import profile

QUIT_WORDS = {"q", "quit", "exit", "退出"}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sentiment`` group with its ``train``, ``evaluate``, ``predict`` and ``pretrain`` commands."""
    parser = subparsers.add_parser("sentiment", help="train, evaluate and use the Chinese review classifier")
    _one_line_errors(parser)
    commands = parser.add_subparsers(dest="command", metavar="ACTION", required=True)

    train = commands.add_parser("train", help="train a (Bi)LSTM on online_shopping_10_cats and save a checkpoint")
    train.add_argument(
        "--tokenizer", choices=("word", "char"), default="word", help="jieba words or single characters (default: word)"
    )
    train.add_argument("--user-dict", metavar="FILE", help="jieba user dictionary (word tokenizer only)")
    train.add_argument("--data", metavar="CSV", help="train on your own CSV/zip with columns cat,label,review")
    train.add_argument(
        "--train-size", type=positive_int, metavar="N", help="use a stratified subset of N training reviews"
    )
    train.add_argument("--max-len", type=positive_int, metavar="N", help="tokens kept per review")
    train.add_argument(
        "--embedding-dim",
        "--embed-size",
        dest="embedding_dim",
        type=positive_int,
        metavar="N",
        help="size of the token embeddings (--embed-size: the old name)",
    )
    train.add_argument(
        "--hidden-size",
        "--hidden",
        dest="hidden_size",
        type=positive_int,
        metavar="N",
        help="LSTM hidden size per direction (--hidden: the old name of `lm`)",
    )
    train.add_argument("--layers", type=positive_int, metavar="N", help="stacked LSTM layers (default 1)")
    train.add_argument("--unidirectional", action="store_true", help="a left-to-right LSTM instead of a BiLSTM")
    train.add_argument("--dropout", type=float, metavar="P")
    train.add_argument("--epochs", type=positive_int, metavar="N")
    train.add_argument("--batch-size", type=positive_int, metavar="N")
    train.add_argument("--lr", type=float, metavar="LR", help="AdamW learning rate")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", default=None, help="cpu, cuda, mps (default: best available)")
    train.add_argument("--tensorboard", metavar="DIR", help="log curves for TensorBoard (if installed)")
    train.add_argument("--out", metavar="PATH", help="checkpoint file (default: the course cache)")
    train.add_argument("--no-progress", action="store_true", help="no progress bars")
    train.add_argument("--pretrained", metavar="LM", help="fine-tune a model from `sentiment pretrain` (ULMFiT)")
    train.add_argument(
        "--fine-tune",
        choices=("ulmfit", "plain"),
        default=None,
        help="with --pretrained: ULMFiT's schedule (per-layer rates, slanted triangular, gradual unfreezing; "
        "the default) or plain AdamW at a constant rate",
    )
    train.set_defaults(func=_train)
    _one_line_errors(train)

    evaluate = commands.add_parser("evaluate", help="accuracy, F1, per-category table and mistakes of a checkpoint")
    _checkpoint_argument(evaluate)
    evaluate.add_argument("--split", choices=("test", "valid"), default="test")
    evaluate.add_argument("--mistakes", type=int, default=5, metavar="K", help="show the K most confident mistakes")
    evaluate.set_defaults(func=_evaluate)
    _one_line_errors(evaluate)

    predict = commands.add_parser("predict", help="classify texts, a file, or interactively")
    predict.add_argument("texts", nargs="*", metavar="TEXT", help="reviews to classify (none: interactive mode)")
    _checkpoint_argument(predict)
    predict.add_argument("--file", metavar="FILE", help="classify every line of a UTF-8 text file")
    predict.add_argument("--out", metavar="CSV", default="-", help="where --file writes its CSV (default: stdout)")
    predict.set_defaults(func=_predict)
    _one_line_errors(predict)

    from lstm_course.cli.sentiment_pretrain import register_pretrain

    _one_line_errors(register_pretrain(commands))


def _one_line_errors(parser: argparse.ArgumentParser) -> None:
    """Report argument errors as one line (plus a pointer to --help) instead of the usage block."""

    def error(message: str):
        print(f"{parser.prog}: error: {message} (see {parser.prog} --help)", file=sys.stderr)
        raise SystemExit(2)

    parser.error = error  # type: ignore[method-assign]


def _checkpoint_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--checkpoint",
        metavar="PATH",
        action="append",
        help="model file written by `sentiment train` (default: the course cache); "
        "repeat it to average several models (an ensemble)",
    )


# ----------------------------------------------------------------------------- train / evaluate


def _train(args: argparse.Namespace) -> int:
    from lstm_course.data.review_tokens import TokenizerConfig

    profile()  # an unknown LSTM_COURSE_PROFILE is one line here, as in `lm train`
    if args.user_dict and args.tokenizer != "word":
        raise UsageError("--user-dict only works with --tokenizer word")
    if args.fine_tune and not args.pretrained:
        raise UsageError("--fine-tune only works with --pretrained LM.pt")
    for name in ("user_dict", "data", "pretrained"):
        value = getattr(args, name)
        if value:
            check_input_file(f"--{name.replace('_', '-')}", value)
    for name in ("dropout", "lr"):
        value = getattr(args, name)
        if value is not None and not math.isfinite(value):
            raise UsageError(f"--{name} must be a finite number, got {value}")
    if args.dropout is not None and not 0 <= args.dropout < 1:
        raise UsageError(f"--dropout must be in [0, 1), got {args.dropout}")
    if args.lr is not None and args.lr <= 0:
        raise UsageError(f"--lr must be positive, got {args.lr}")
    from lstm_course.torch import sentiment as S
    from lstm_course.torch.sizing import ModelTooLargeError, check_fits

    out = Path(args.out) if args.out else S.default_checkpoint()
    ensure_writable(out, option="--out" if args.out else "the default checkpoint (give --out)", folder=False)
    tokenizer = TokenizerConfig(kind=args.tokenizer, user_dict=args.user_dict)
    overrides = {"tokenizer": tokenizer, "source": args.data, "seed": args.seed}
    if args.train_size:
        overrides["train_size"] = args.train_size
    if args.max_len:
        overrides["max_len"] = args.max_len
    settings = S.data_settings(args.tokenizer, **overrides)
    print(f"准备数据（{'jieba 分词' if args.tokenizer == 'word' else '字符'}）……", flush=True)
    try:
        data = S.prepare_data(settings, progress=not args.no_progress)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    print(f"训练 {len(data.train):,} 条，验证 {len(data.valid):,} 条，词表 {len(data.vocab):,} 个词元", flush=True)
    model_overrides = {
        k: v
        for k, v in {
            "embedding_dim": args.embedding_dim,
            "hidden_size": args.hidden_size,
            "num_layers": args.layers,
            "dropout": args.dropout,
        }.items()
        if v is not None
    }
    if args.unidirectional:
        model_overrides["bidirectional"] = False
    train_overrides = {
        k: v
        for k, v in {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr, "device": args.device}.items()
        if v is not None
    }
    train_cfg = S.train_config(seed=args.seed, **train_overrides)
    if args.pretrained:
        from lstm_course.cli.sentiment_pretrain import train_pretrained

        return train_pretrained(args, data, train_cfg, out)
    model_cfg = S.model_config(data.vocab, **model_overrides)
    try:
        check_fits(
            lambda: S.SentimentLSTM(model_cfg),
            what=f"the model (--hidden-size {model_cfg.hidden_size}, "
            f"--embedding-dim {model_cfg.embedding_dim}, {len(data.vocab):,} tokens)",
        )
    except ModelTooLargeError as exc:
        raise UsageError(str(exc)) from None
    try:
        net, history = S.train_model(
            data, config=model_cfg, train=train_cfg, progress=not args.no_progress, tensorboard_dir=args.tensorboard
        )
    except RuntimeError as exc:  # e.g. an unavailable --device
        raise UsageError(str(exc).splitlines()[0]) from None
    try:
        S.save_trained(out, net, data, history, train_cfg)
    except S.CheckpointError as exc:
        raise UsageError(f"the model cannot be saved: {exc}") from None
    except OSError as exc:
        raise UsageError(f"cannot write {out} ({exc.strerror or exc})") from None
    print(f"最佳验证准确率 {history.best_valid_acc:.4f}（第 {history.best_epoch} 轮），用时 {history.seconds:.0f} 秒")
    print(f"模型已保存到 {out}")
    return 0


def _checkpoint_paths(paths: list[str] | None) -> list[Path]:
    """The ``--checkpoint`` files (default: the course cache's), each an existing file."""
    from lstm_course.torch.sentiment import default_checkpoint

    found = [Path(p) if p else default_checkpoint() for p in (paths or [None])]
    for path in found:
        if not path.is_file():
            raise UsageError(
                f"no model at {path}; train one with `lstm-course sentiment train` or pass --checkpoint PATH"
            )
    return found


def _load_all(paths: list[str] | None) -> list:
    from lstm_course.torch import sentiment as S

    try:
        return [S.load_checkpoint(path) for path in _checkpoint_paths(paths)]
    except S.CheckpointError as exc:
        raise UsageError(str(exc)) from None


def _predictor(paths: list[str] | None):
    """A :class:`SentimentPredictor` for one checkpoint, a :class:`SentimentEnsemble` for several (on the CPU)."""
    from lstm_course.torch import sentiment as S

    found = _checkpoint_paths(paths)
    try:
        if len(found) == 1:
            return S.SentimentPredictor.from_checkpoint(found[0], device="cpu")
        return S.SentimentEnsemble.from_checkpoints(found, device="cpu")
    except S.CheckpointError as exc:
        raise UsageError(str(exc)) from None


def _evaluate(args: argparse.Namespace) -> int:
    from lstm_course.torch import sentiment as S

    results = []
    for ckpt in _load_all(args.checkpoint):
        if "data" not in ckpt.extra:
            raise UsageError(
                "this checkpoint does not record its data settings; it cannot be evaluated on its held-out split"
            )
        settings = S.DataSettings.from_dict(ckpt.extra["data"])
        if settings.source and not Path(settings.source).is_file():
            raise UsageError(f"the checkpoint was trained on {settings.source}, which no longer exists")
        results.append(S.evaluate(ckpt.model, S.encode_split(settings, args.split, ckpt.vocab)))
    try:
        result = S.average(results)
    except ValueError as exc:
        raise UsageError(f"cannot average these checkpoints: {exc}") from None
    if len(results) > 1:
        print(
            f"集成 {len(results)} 个模型（平均概率）；单个模型的准确率: "
            + "，".join(f"{r.accuracy:.4f}" for r in results)
        )
    print(f"{'测试' if args.split == 'test' else '验证'}集评估")
    print(result.summary())
    print()
    print(result.category_table())
    print()
    print(result.length_table())
    if args.mistakes > 0:
        print(f"\n最自信的 {args.mistakes} 个错误：")
        for m in result.confident_mistakes(args.mistakes):
            print(
                f"  [{m['category']}] 真实 {m['label']}，预测 {m['predicted']}（P(正面)={m['p_positive']:.3f}）："
                f"{_short(m['text'], 60)}"
            )
    return 0


# ----------------------------------------------------------------------------- predict


def _predict(args: argparse.Namespace) -> int:
    if args.file and args.texts:
        raise UsageError("give either texts or --file, not both")
    if args.file:
        check_input_file("--file", args.file)
    if args.out != "-" and not args.file:
        raise UsageError("--out only applies together with --file")
    if args.out != "-":
        ensure_writable(args.out, option="--out", folder=False)
    for i, text in enumerate(args.texts, 1):
        if not text.strip():
            raise UsageError(f"text {i} is empty; give a review to classify")
    predictor = _predictor(args.checkpoint)
    if args.file:
        return _predict_file(predictor, Path(args.file), args.out)
    if args.texts:
        for text, prediction in zip(args.texts, predictor.predict(args.texts), strict=True):
            print(_format(prediction, text))
        return 0
    return _interactive(predictor)


def _format(prediction, text: str) -> str:
    """One line: label, confidence, the text, and a note when every token was unknown."""
    line = f"{prediction.label}  置信度 {prediction.probability:.3f}  {_short(text, 40)}"
    return f"{line}  （注意：所有词元都不在词表中，结果不可靠）" if prediction.all_unknown else line


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _interactive(predictor) -> int:
    print("输入一条商品评论后回车，即可看到情感预测；输入 q 或 quit 退出（Ctrl-D 也可以）。", flush=True)
    while True:
        try:
            text = input("评论> ")
        except EOFError:
            print()
            return 0
        stripped = text.strip()
        if stripped.lower() in QUIT_WORDS:
            return 0
        if not stripped:
            print("（请输入评论文字；输入 q 退出）", flush=True)
            continue
        (prediction,) = predictor.predict([stripped])
        print(_format(prediction, stripped), flush=True)


def _predict_file(predictor, path: Path, out: str) -> int:
    raw_lines = path.read_bytes().split(b"\n")
    if raw_lines and raw_lines[-1] == b"":  # the newline that ends the last line starts no new line
        raw_lines.pop()
    rows: list[dict[str, str]] = []
    texts: list[str] = []
    positions: list[int] = []
    bad = 0
    for number, raw in enumerate(raw_lines, 1):
        raw = raw.removesuffix(b"\r")
        row = {"line": str(number), "label": "", "probability": "", "note": "", "text": ""}
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad += 1
            row["text"] = raw.decode("utf-8", errors="replace")
            row["note"] = f"invalid UTF-8 at byte {exc.start}"
            print(
                f"lstm-course: warning: {path}, line {number}: not valid UTF-8 (byte {exc.start}); "
                "written without a prediction",
                file=sys.stderr,
            )
        else:
            row["text"] = text.replace("\ufeff", "")
            if not row["text"].strip():
                row["note"] = "empty line"
            else:
                texts.append(row["text"])
                positions.append(len(rows))
        rows.append(row)
    for pos, p in zip(positions, predictor.predict(texts) if texts else [], strict=True):
        rows[pos].update(
            label=p.label, probability=f"{p.probability:.4f}", note="all tokens unknown" if p.all_unknown else ""
        )
    _write_csv(rows, out)
    if out != "-":
        print(
            f"{len(rows)} 行 -> {out}（{len(texts)} 行已预测，{bad} 行不是有效的 UTF-8，"
            f"{len(rows) - len(texts) - bad} 行为空）",
            file=sys.stderr,
        )
    return 1 if bad else 0


def _write_csv(rows: list[dict[str, str]], out: str) -> None:
    fields = ["line", "label", "probability", "note", "text"]
    if out == "-":
        writer = csv.DictWriter(sys.stdout, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
        return
    from lstm_course.results import atomic_write_bytes

    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=fields)
    writer.writeheader()
    writer.writerows(rows)
    try:  # a temporary file renamed into place: a failed write leaves an existing file as it was
        atomic_write_bytes(Path(out), buffer.getvalue().encode("utf-8"))
    except OSError as exc:
        raise UsageError(f"--out: cannot write {out} ({exc.strerror or exc}); an existing file is unchanged") from None

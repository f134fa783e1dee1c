"""Fine-tuning a pre-trained language model as the classifier (ULMFiT, Howard & Ruder 2018).

* :func:`transfer_weights` copies the LM's embedding and LSTM into a **unidirectional**
  :class:`~lstm_course.torch.sentiment.model.SentimentLSTM` of the same sizes (a BiLSTM would
  also need a backward LM, as ULMFiT trains);
* :func:`layer_groups` / :func:`discriminative_param_groups`: one parameter group per layer,
  the learning rate divided by ``decay`` for every layer further down the stack;
* :func:`unfreeze` (gradual unfreezing): in epoch ``k`` only the top ``k`` groups train;
* :func:`slanted_triangular`: the learning-rate multiplier of ``torch.optim.lr_scheduler.LambdaLR``
  that rises linearly for a fraction ``cut_frac`` of the steps, then decays linearly.

:class:`ULMFiTSchedule` puts the three together in the form
:func:`~lstm_course.torch.sentiment.train.fit` accepts as ``schedule``, so fine-tuning runs
the same loop, step, model selection and checkpoints as training from scratch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from lstm_course.data.reviews import EncodedReviews
from lstm_course.runtime import set_seed
from lstm_course.torch.sentiment.model import SentimentConfig, SentimentLSTM
from lstm_course.torch.sentiment.pipeline import PreparedData
from lstm_course.torch.sentiment.pretrain import ReviewLM
from lstm_course.torch.sentiment.train import History, TrainConfig, fit

__all__ = [
    "TransferConfig",
    "ULMFiTSchedule",
    "classifier_config",
    "transfer_config",
    "transfer_weights",
    "layer_groups",
    "discriminative_param_groups",
    "unfreeze",
    "slanted_triangular",
    "fine_tune",
    "train_from_lm",
]


@dataclass
class TransferConfig:
    """ULMFiT's fine-tuning settings (the defaults are the paper's).

    Attributes:
        layer_decay: the learning rate of each layer is that of the layer above divided by this.
        cut_frac: fraction of the steps during which the learning rate rises.
        ratio: how much smaller the lowest learning rate is than the peak.
        gradual_unfreezing: train only the top group in epoch 1, the top two in epoch 2, ...
    """

    layer_decay: float = 2.6
    cut_frac: float = 0.1
    ratio: float = 32.0
    gradual_unfreezing: bool = True

    def __post_init__(self) -> None:
        if not self.layer_decay >= 1.0:
            raise ValueError(f"layer_decay must be >= 1, got {self.layer_decay}")
        if not 0.0 < self.cut_frac < 1.0:
            raise ValueError(f"cut_frac must be in (0, 1), got {self.cut_frac}")
        if not self.ratio >= 1.0:
            raise ValueError(f"ratio must be >= 1, got {self.ratio}")

    def to_dict(self) -> dict:
        """A JSON-serialisable dict."""
        return asdict(self)


def transfer_config(**overrides: Any) -> TransferConfig:
    """Default :class:`TransferConfig` (the same in both profiles)."""
    return TransferConfig(**overrides)


def classifier_config(lm: ReviewLM, **overrides: Any) -> SentimentConfig:
    """A unidirectional :class:`SentimentConfig` with the LM's vocabulary and sizes.

    Pooling is ``'last+max'`` (ULMFiT's concat pooling, without the mean): an LM's last state is
    shaped for predicting the next token, the maximum over time carries the whole review.
    """
    c = lm.config
    settings = dict(
        vocab_size=c.vocab_size,
        pad_index=c.pad_index,
        embedding_dim=c.embedding_dim,
        hidden_size=c.hidden_size,
        num_layers=c.num_layers,
        bidirectional=False,
        dropout=0.3,
        pooling="last+max",
    )
    settings.update(overrides)
    return SentimentConfig(**settings)


def transfer_weights(lm: ReviewLM, classifier: SentimentLSTM) -> SentimentLSTM:
    """Copy the LM's embedding and LSTM into ``classifier`` (in place; also returned).

    The classifier's output layer keeps its fresh initialisation.  Afterwards, before any
    fine-tuning, ``classifier.lstm`` computes exactly the LM's hidden states on the same input.

    Raises:
        ValueError: the classifier is bidirectional, or its vocabulary or sizes differ.
    """
    c, m = lm.config, classifier.config
    if m.bidirectional:
        raise ValueError(
            "a left-to-right language model has no weights for the backward direction: "
            "build the classifier with bidirectional=False"
        )
    for name in ("vocab_size", "pad_index", "embedding_dim", "hidden_size", "num_layers"):
        if getattr(c, name) != getattr(m, name):
            raise ValueError(f"{name}: the language model has {getattr(c, name)}, the classifier {getattr(m, name)}")
    with torch.no_grad():
        classifier.embedding.load_state_dict(lm.embedding.state_dict())
        classifier.lstm.load_state_dict(lm.lstm.state_dict())
    return classifier


def layer_groups(model: SentimentLSTM) -> list[tuple[str, list[nn.Parameter]]]:
    """``(name, parameters)`` from the bottom of the stack to the top: embedding, each LSTM layer, output."""
    groups: list[tuple[str, list[nn.Parameter]]] = [("embedding", list(model.embedding.parameters()))]
    for layer in range(model.config.num_layers):
        params = [p for name, p in model.lstm.named_parameters() if name.split("_l")[-1].split("_")[0] == str(layer)]
        groups.append((f"lstm.{layer}", params))
    groups.append(("output", list(model.output.parameters())))
    return groups


def discriminative_param_groups(
    model: SentimentLSTM, lr: float, *, layer_decay: float = 2.6, weight_decay: float = 0.0
) -> list[dict[str, Any]]:
    """Optimizer parameter groups, one per layer: the top (output) gets ``lr``, the one below
    ``lr / layer_decay``, then ``lr / layer_decay**2``, ...  Each dict also carries its ``name``.

    Weight decay applies to the LSTM and output weights, never to biases or embeddings.
    """
    groups = layer_groups(model)
    out = []
    for depth, (name, params) in enumerate(reversed(groups)):
        decays = 0.0 if name == "embedding" else weight_decay
        out.append({"params": params, "lr": lr / layer_decay**depth, "name": name, "weight_decay": decays})
    return out[::-1]


def unfreeze(model: SentimentLSTM, epoch: int) -> list[str]:
    """Gradual unfreezing: in ``epoch`` (1-based) only the top ``epoch`` layer groups get gradients.

    Returns:
        the names of the trainable groups, bottom to top.
    """
    if epoch < 1:
        raise ValueError(f"epoch must be >= 1, got {epoch}")
    groups = layer_groups(model)
    trainable = []
    for depth, (name, params) in enumerate(reversed(groups)):
        on = depth < epoch
        for p in params:
            p.requires_grad_(on)
        if on:
            trainable.append(name)
    return trainable[::-1]


def slanted_triangular(total_steps: int, *, cut_frac: float = 0.1, ratio: float = 32.0) -> Callable[[int], float]:
    """The slanted triangular learning-rate multiplier of step ``t`` (0-based), for ``LambdaLR``.

    Rises linearly from ``1/ratio`` to 1 over the first ``cut = max(1, floor(total_steps *
    cut_frac))`` steps, then falls linearly back to ``1/ratio`` at step ``total_steps``
    (Howard & Ruder 2018, eq. 3).
    """
    if total_steps < 2:
        raise ValueError(f"total_steps must be >= 2, got {total_steps}")
    cut = max(1, int(total_steps * cut_frac))

    def multiplier(t: int) -> float:
        if t < cut:
            p = t / cut
        else:
            p = max(0.0, 1 - (t - cut) / max(total_steps - cut, 1))
        return (1 + p * (ratio - 1)) / ratio

    return multiplier


class ULMFiTSchedule:
    """Discriminative rates + slanted triangular schedule + gradual unfreezing, as a ``fit`` schedule.

    :func:`~lstm_course.torch.sentiment.train.fit` calls :meth:`build` once (AdamW over
    :func:`discriminative_param_groups`, a per-step ``LambdaLR``) and :meth:`start_epoch`
    before every epoch.
    """

    def __init__(self, config: TransferConfig | None = None) -> None:
        self.config = config or TransferConfig()
        self.trainable: list[list[str]] = []  # the groups trained in each epoch

    def build(
        self, model: SentimentLSTM, train: TrainConfig, total_steps: int
    ) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
        """AdamW over per-layer groups and a per-step ``LambdaLR`` with :func:`slanted_triangular`."""
        groups = discriminative_param_groups(
            model, train.lr, layer_decay=self.config.layer_decay, weight_decay=train.weight_decay
        )
        optimizer = torch.optim.AdamW(groups, lr=train.lr)
        shape = slanted_triangular(max(total_steps, 2), cut_frac=self.config.cut_frac, ratio=self.config.ratio)
        return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, shape)

    def start_epoch(self, model: SentimentLSTM, epoch: int) -> None:
        """Gradual unfreezing (or everything trainable when it is off)."""
        if self.config.gradual_unfreezing:
            self.trainable.append(unfreeze(model, epoch))
        else:
            self.trainable.append(unfreeze(model, len(layer_groups(model))))


def fine_tune(
    classifier: SentimentLSTM,
    train: EncodedReviews,
    valid: EncodedReviews,
    config: TrainConfig,
    transfer: TransferConfig | None = None,
    **fit_options: Any,
) -> History:
    """:func:`~lstm_course.torch.sentiment.train.fit` with a :class:`ULMFiTSchedule`; every
    parameter is trainable again afterwards."""
    schedule = ULMFiTSchedule(transfer)
    try:
        return fit(classifier, train, valid, config, schedule=schedule, **fit_options)
    finally:
        for p in classifier.parameters():
            p.requires_grad_(True)


def train_from_lm(
    data: PreparedData,
    lm: ReviewLM,
    *,
    train: TrainConfig | None = None,
    transfer: TransferConfig | None = None,
    labelled: EncodedReviews | None = None,
    **fit_options: Any,
) -> tuple[SentimentLSTM, History]:
    """Build the classifier from ``lm`` (:func:`transfer_weights`) and :func:`fine_tune` it.

    Args:
        labelled: the labelled training reviews (default ``data.train``), e.g. a subset for a
            label-efficiency curve.
    """
    from lstm_course.torch.sentiment.pipeline import train_config

    train = train or train_config()
    set_seed(train.seed)  # the output layer is initialised from the training seed
    net = transfer_weights(lm, SentimentLSTM(classifier_config(lm)))
    history = fine_tune(net, data.train if labelled is None else labelled, data.valid, train, transfer, **fit_options)
    return net, history

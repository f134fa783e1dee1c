"""Chapter 4: the recurrent language model in PyTorch, one job per module.

:mod:`.model` (:class:`RNNLM`, :class:`LMConfig`, :func:`build_lm`, :func:`build_rnn`),
:mod:`.evaluate` (loss per token, perplexity), :mod:`.train` (:func:`train_lm`),
:mod:`.generation` (greedy, temperature and top-k continuation of a prefix) and
:mod:`.checkpoint` (safe save/load of weights, vocabulary and configuration).  The
framework-free pieces, the training history and the n-gram baseline, are :mod:`lstm_course.lm`.
"""

from lstm_course.lm.history import LMHistory
from lstm_course.torch.lm.checkpoint import (
    CHECKPOINT_NAME,
    CheckpointError,
    LMCheckpoint,
    encode_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from lstm_course.torch.lm.evaluate import evaluate_perplexity, lm_loss, perplexity
from lstm_course.torch.lm.generation import UnknownTokenError, generate, sample_next, split_prefix
from lstm_course.torch.lm.model import CELLS, IMPLS, RNNLM, TOKENS, LMConfig, build_lm, build_rnn, detach_state
from lstm_course.torch.lm.train import DivergedError, make_optimizer, train_lm

__all__ = [
    "CELLS",
    "CHECKPOINT_NAME",
    "IMPLS",
    "RNNLM",
    "TOKENS",
    "CheckpointError",
    "DivergedError",
    "LMCheckpoint",
    "LMConfig",
    "LMHistory",
    "UnknownTokenError",
    "build_lm",
    "build_rnn",
    "detach_state",
    "encode_checkpoint",
    "evaluate_perplexity",
    "generate",
    "lm_loss",
    "load_checkpoint",
    "make_optimizer",
    "perplexity",
    "sample_next",
    "save_checkpoint",
    "split_prefix",
    "train_lm",
]

"""Datasets of the course: a verified registry, :func:`fetch`, and the loaders built on it.

``fetch`` and the registry are always available; the text and review loaders live in
:mod:`lstm_course.data.timemachine` and :mod:`lstm_course.data.reviews`.
"""

from lstm_course.data.fetch import (
    DATA_ENV_VAR,
    ChecksumError,
    DataError,
    DataUnavailableError,
    UnknownDatasetError,
    cache_dir,
    fetch,
    get_dataset,
    sha256_of,
)
from lstm_course.data.registry import REGISTRY, Dataset
from lstm_course.data.vocab import Vocab, count_tokens

__all__ = [
    "DATA_ENV_VAR",
    "REGISTRY",
    "ChecksumError",
    "DataError",
    "DataUnavailableError",
    "Dataset",
    "UnknownDatasetError",
    "Vocab",
    "cache_dir",
    "count_tokens",
    "fetch",
    "get_dataset",
    "sha256_of",
]

"""Batches of encoded reviews: length-bucketed sampling and padding to ``(steps, batch)``."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from lstm_course.data.reviews import EncodedReviews


class _ReviewDataset(Dataset):
    def __init__(self, data: EncodedReviews) -> None:
        self.data = data

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i: int) -> tuple[np.ndarray, int, int]:
        return self.data.ids[i], int(self.data.labels[i]), i


class BucketBatchSampler(Sampler[list[int]]):
    """Batches of similar length: shuffle, cut into pools of ``pool`` batches, sort each pool by
    length, cut into batches, shuffle the batches.  Similar lengths mean few padded steps.

    Without ``shuffle`` the batches are consecutive runs of the length-sorted data
    (deterministic, and the fastest order for evaluation); use the ``index`` of each batch to
    put results back in data order.
    """

    def __init__(self, lengths: np.ndarray, batch_size: int, *, shuffle: bool, seed: int = 0, pool: int = 50) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.lengths = np.asarray(lengths)
        self.batch_size, self.shuffle, self.pool = batch_size, shuffle, pool
        self.seed, self.epoch = seed, 0

    def __iter__(self) -> Iterator[list[int]]:
        n = len(self.lengths)
        if not self.shuffle:
            order = np.argsort(self.lengths, kind="stable")
            for start in range(0, n, self.batch_size):
                yield order[start : start + self.batch_size].tolist()
            return
        rng = np.random.default_rng(self.seed + self.epoch)
        self.epoch += 1
        order = rng.permutation(n)
        chunk = self.batch_size * self.pool
        batches = []
        for start in range(0, n, chunk):
            part = order[start : start + chunk]
            part = part[np.argsort(self.lengths[part], kind="stable")]
            batches += [part[i : i + self.batch_size].tolist() for i in range(0, len(part), self.batch_size)]
        for b in rng.permutation(len(batches)):
            yield batches[b]

    def __len__(self) -> int:
        return -(-len(self.lengths) // self.batch_size)


def collate(items: list[tuple[np.ndarray, int, int]], pad_index: int) -> dict[str, torch.Tensor]:
    """Pad to ``tokens`` ``(steps, batch)``; also ``lengths``, ``labels`` ``(batch,)`` and ``index``."""
    lengths = torch.tensor([len(ids) for ids, _, _ in items], dtype=torch.int64)
    tokens = torch.full((int(lengths.max()), len(items)), pad_index, dtype=torch.int64)
    for j, (ids, _, _) in enumerate(items):
        tokens[: len(ids), j] = torch.from_numpy(ids)
    return {
        "tokens": tokens,
        "lengths": lengths,
        "labels": torch.tensor([label for _, label, _ in items], dtype=torch.float32),
        "index": torch.tensor([i for _, _, i in items], dtype=torch.int64),
    }


def make_loader(data: EncodedReviews, *, batch_size: int, pad_index: int, shuffle: bool, seed: int = 0) -> DataLoader:
    """A ``DataLoader`` yielding :func:`collate` dicts, bucketed by length when shuffling."""
    sampler = BucketBatchSampler(data.lengths, batch_size, shuffle=shuffle, seed=seed)
    return DataLoader(_ReviewDataset(data), batch_sampler=sampler, collate_fn=lambda items: collate(items, pad_index))

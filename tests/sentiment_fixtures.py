"""A tiny synthetic review corpus for the chapter-7 tests (no download, trains in seconds)."""

from __future__ import annotations

import csv
import random
from pathlib import Path

POSITIVE = ["好", "棒", "喜欢", "满意", "推荐", "赞"]
NEGATIVE = ["差", "烂", "失望", "退货", "垃圾", "糟"]
FILLER = ["这个", "东西", "手机", "衣服", "酒店", "水果", "真的", "非常", "质量", "物流", "包装", "价格"]
CATEGORIES = ["手机", "衣服", "水果"]


def synthetic_rows(n: int = 360, seed: int = 0) -> list[tuple[str, int, str]]:
    """``(category, label, text)``: the label is decided by one sentiment word among fillers."""
    rng = random.Random(seed)
    rows, seen = [], set()
    while len(rows) < n:
        i = len(rows)
        label = i % 2
        words = [rng.choice(FILLER) for _ in range(rng.randint(2, 8))]
        words.insert(rng.randint(0, len(words)), rng.choice(POSITIVE if label else NEGATIVE))
        text = "".join(words)
        if text not in seen:  # unique texts: the cleaning step would drop duplicates
            seen.add(text)
            rows.append((CATEGORIES[i % 3], label, text))
    return rows


def write_csv(path: Path, rows: list[tuple[str, int, str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["cat", "label", "review"])
        writer.writerows(rows)
    return path

"""lstm_course.data.reviews: reading, cleaning, splitting, encoding (tokenising: tests/test_review_tokens.py)."""

from __future__ import annotations

import csv
import os
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from sentiment_fixtures import synthetic_rows

from lstm_course.data import Vocab
from lstm_course.data import reviews as R


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))


def _write(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["cat", "label", "review"], *rows])
    return path


def test_read_csv_and_zip_agree(tmp_path):
    path = _write(tmp_path / "r.csv", [["书籍", "1", "\ufeff很好"], ["书籍", "0", "很差"]])
    archive = tmp_path / "r.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(path, "inner.csv")
    assert (
        R.read_reviews(path)
        == R.read_reviews(archive)
        == [R.Review("书籍", 1, "\ufeff很好"), R.Review("书籍", 0, "很差")]
    )


def test_bad_label_names_the_line(tmp_path):
    path = _write(tmp_path / "r.csv", [["书籍", "1", "好"], ["书籍", "positive", "好"]])
    with pytest.raises(ValueError, match="line 3"):
        R.read_reviews(path)


def test_missing_column_is_reported(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("cat,review\n书籍,好\n", encoding="utf-8")
    with pytest.raises(ValueError, match="missing \\['label'\\]"):
        R.read_reviews(path)


def test_clean_counts_every_kind_of_removal():
    raw = [
        R.Review("书籍", 1, "\ufeff  很好看 \u3000"),  # BOM + whitespace: kept as '很好看'
        R.Review("平板", 1, "很好看"),  # duplicate (other category, same label)
        R.Review("书籍", 0, "   "),  # empty after stripping
        R.Review("衣服", 1, "质量不错"),  # conflicting: both labels ...
        R.Review("衣服", 0, "质量不错"),  # ... every copy removed
        R.Review("衣服", 0, "质量不错"),
        R.Review("水果", 0, "不新鲜"),
    ]
    kept, report = R.clean_reviews(raw)
    assert kept == [R.Review("书籍", 1, "很好看"), R.Review("水果", 0, "不新鲜")]
    assert (report.raw, report.empty, report.duplicates, report.conflicting_rows, report.kept) == (7, 1, 1, 3, 2)
    assert report.conflicting == [("质量不错", [("衣服", 1), ("衣服", 0), ("衣服", 0)])]
    assert report.duplicated == [("很好看", [("书籍", 1), ("平板", 1)])]
    assert "标签矛盾 1 组共 3 条" in report.summary()


def test_split_is_disjoint_stratified_and_seeded():
    rows = [R.Review(cat, label, text) for cat, label, text in synthetic_rows(600)]
    splits = R.split_reviews(rows, (0.8, 0.1, 0.1), seed=3)
    texts = {name: {r.text for r in part} for name, part in splits.items()}
    assert not texts["train"] & texts["valid"] and not texts["train"] & texts["test"]
    assert not texts["valid"] & texts["test"]
    assert sum(len(p) for _, p in splits.items()) == 600
    for part in (splits.valid, splits.test):  # 100 reviews per (category, label) -> 10 in each
        assert set(Counter((r.category, r.label) for r in part).values()) == {10}
    again = R.split_reviews(rows, (0.8, 0.1, 0.1), seed=3)
    other = R.split_reviews(rows, (0.8, 0.1, 0.1), seed=4)
    assert again.test == splits.test and {r.text for r in other.test} != texts["test"]
    with pytest.raises(ValueError, match="summing to 1"):
        R.split_reviews(rows, (0.8, 0.1, 0.2))


def test_stratified_subset_keeps_proportions():
    rows = [R.Review(cat, label, text) for cat, label, text in synthetic_rows(600)]
    subset = R.stratified_subset(rows, 60, seed=0)
    assert len(subset) == 60 and len({r.text for r in subset}) == 60
    assert set(Counter((r.category, r.label) for r in subset).values()) == {10}
    assert R.stratified_subset(rows, None) == rows


def test_category_counts():
    rows = [R.Review("书籍", 1, "a"), R.Review("书籍", 0, "b"), R.Review("书籍", 1, "c"), R.Review("蒙牛", 0, "d")]
    assert R.category_counts(rows) == {"书籍": (1, 2), "蒙牛": (1, 0)}  # the table: tests/test_tables.py


def test_vocab_from_training_tokens_and_encoding():
    train = [["好", "好", "用"], ["差"]]
    vocab = R.build_vocab(train, min_freq=1)
    assert isinstance(vocab, Vocab) and vocab.to_tokens([0, 1]) == ["<unk>", "<pad>"] and vocab["好"] == 2
    assert R.coverage([["好", "新词"]], vocab) == 0.5
    reviews = [R.Review("x", 1, "好好用"), R.Review("x", 0, "差")]
    enc = R.encode([["好", "好", "用"], ["差", "新词"]], vocab, max_len=2, reviews=reviews)
    assert [a.tolist() for a in enc.ids] == [[2, 2], [vocab["差"], 0]]
    assert enc.lengths.tolist() == [2, 2] and enc.full_lengths.tolist() == [3, 2]
    assert enc.labels.tolist() == [1, 0] and enc.subset([1]).texts == ["差"]
    with pytest.raises(ValueError, match="no tokens"):
        R.encode([[]], vocab, max_len=5)
    with pytest.raises(ValueError, match="max_len"):
        R.encode([["好"]], vocab, max_len=0)


def _local_dataset() -> Path | None:
    folder = os.environ.get("LSTM_COURSE_DATA")
    if folder and (Path(folder) / "online_shopping_10_cats.zip").is_file():
        return Path(folder) / "online_shopping_10_cats.zip"
    shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "online_shopping_10_cats.zip"
    return shared if shared.is_file() else None


def test_real_dataset_statistics_and_disjoint_split():
    path = _local_dataset()
    if path is None:
        pytest.skip("online_shopping_10_cats.zip is not available locally")
    raw = R.read_reviews(path)
    assert len(raw) == 62774 and raw[0].text.startswith("\ufeff")
    splits, report = R.load_splits(path)
    assert (report.empty, report.duplicates, len(report.conflicting), report.conflicting_rows) == (1, 32, 18, 36)
    assert report.kept == 62705 == sum(len(p) for _, p in splits.items())
    seen: dict[str, str] = {}
    for name, part in splits.items():
        for review in part:
            assert seen.setdefault(review.text, name) == name, f"{review.text!r} is in two splits"
            assert review.text == review.text.strip() and "\ufeff" not in review.text
    counts = R.category_counts(splits.test)
    assert len(counts) == 10 and all(neg + pos > 0 for neg, pos in counts.values())
    assert np.isclose(len(splits.test) / report.kept, 0.1, atol=0.002)

"""lstm_course.data.review_tokens: character and jieba word tokens, user dictionaries, the token cache."""

from __future__ import annotations

import pytest

from lstm_course.data import review_tokens as T


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))


def test_char_and_word_tokenizers():
    char = T.ReviewTokenizer(T.TokenizerConfig("char"))
    assert char("好 用！ＯＫ") == ["好", "用", "!", "o", "k"]  # NFKC + lower case, no whitespace
    assert T.ReviewTokenizer(T.TokenizerConfig("char", nfkc=False))("ＯＫ") == ["Ｏ", "Ｋ"]
    word = T.ReviewTokenizer(T.TokenizerConfig("word"))
    tokens = word("这款手机真的太好用了")
    assert "手机" in tokens and "".join(tokens) == "这款手机真的太好用了"
    with pytest.raises(ValueError, match="kind"):
        T.TokenizerConfig("bpe")


def test_user_dictionary_changes_segmentation(tmp_path):
    text = "这个蓝牙耳机降噪效果一流"
    plain = T.ReviewTokenizer(T.TokenizerConfig("word"))(text)
    user = tmp_path / "dict.txt"
    user.write_text("降噪效果一流 1000\n", encoding="utf-8")
    custom = T.ReviewTokenizer(T.TokenizerConfig("word", user_dict=str(user)))(text)
    assert "降噪效果一流" in custom and "降噪效果一流" not in plain
    assert T.ReviewTokenizer(T.TokenizerConfig("word"))(text) == plain  # no leak into other tokenizers


def test_jieba_cache_is_reused_and_keyed(tmp_path, monkeypatch):
    texts = ["物流很快，质量很好", "完全不值这个价", "一般般吧"]
    first = T.ReviewTokenizer(T.TokenizerConfig("word"))
    tokens = first.tokenize_many(texts)
    path = first.cache_path(texts)
    assert path.is_file() and str(path).startswith(str(tmp_path / "xdg"))
    second = T.ReviewTokenizer(T.TokenizerConfig("word"))

    def refuse(*args, **kwargs):
        raise AssertionError("jieba ran although the tokens were cached")

    monkeypatch.setattr(T.ReviewTokenizer, "__call__", refuse)
    assert second.tokenize_many(texts) == tokens  # served from the cache
    monkeypatch.undo()
    # the key depends on the texts, the settings and the user dictionary's content
    assert first.cache_path(texts[:2]) != path
    assert T.ReviewTokenizer(T.TokenizerConfig("word", hmm=False)).cache_path(texts) != path
    user = tmp_path / "dict.txt"
    user.write_text("一般般 10\n", encoding="utf-8")
    key1 = T.ReviewTokenizer(T.TokenizerConfig("word", user_dict=str(user))).cache_path(texts)
    user.write_text("一般般 20\n", encoding="utf-8")
    key2 = T.ReviewTokenizer(T.TokenizerConfig("word", user_dict=str(user))).cache_path(texts)
    assert key1 != key2
    path.write_text("[[", encoding="utf-8")  # a damaged cache is recomputed, not trusted
    assert T.ReviewTokenizer(T.TokenizerConfig("word")).tokenize_many(texts) == tokens

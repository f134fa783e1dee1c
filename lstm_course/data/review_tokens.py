"""Tokenising Chinese reviews: jieba words or characters, and the on-disk cache of jieba's work.

:class:`TokenizerConfig` says how text becomes tokens (it is stored in checkpoints, so prediction
tokenises exactly like training); :class:`ReviewTokenizer` applies it, one text at a time or many
at once through a cache under ``cache_dir()/reviews`` keyed by the settings and the texts.
Reading, cleaning and splitting the reviews is :mod:`lstm_course.data.reviews`'s job.
"""

from __future__ import annotations

import hashlib
import json
import logging
import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from lstm_course.data.fetch import cache_dir
from lstm_course.results import atomic_write_text

__all__ = ["TOKEN_KINDS", "ReviewTokenizer", "TokenizerConfig"]

TOKEN_KINDS = ("word", "char")
_CACHE_FORMAT = 1


@dataclass(frozen=True)
class TokenizerConfig:
    """How text becomes tokens; stored in checkpoints so prediction tokenises like training.

    Attributes:
        kind: ``'word'`` (jieba) or ``'char'`` (one token per character).
        user_dict: optional jieba user dictionary file (one ``word [freq] [tag]`` per line).
        nfkc: apply Unicode NFKC normalisation (full-width ``ＡＢＣ１２３`` -> ``ABC123``) and
            lower-case Latin letters before tokenising.
        hmm: let jieba guess unknown words with its HMM.
    """

    kind: str = "word"
    user_dict: str | None = None
    nfkc: bool = True
    hmm: bool = True

    def __post_init__(self) -> None:
        if self.kind not in TOKEN_KINDS:
            raise ValueError(f"tokenizer kind must be one of {TOKEN_KINDS}, got {self.kind!r}")
        if self.user_dict is not None and self.kind != "word":
            raise ValueError("a user dictionary only applies to kind='word'")

    def to_dict(self) -> dict:
        """The settings as a JSON-serialisable dict (stored in checkpoints)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TokenizerConfig:
        """Rebuild the settings written by :meth:`to_dict`."""
        unknown = set(data) - {"kind", "user_dict", "nfkc", "hmm"}
        if unknown:
            raise ValueError(f"unknown tokenizer settings {sorted(unknown)}")
        return cls(**data)

    def cache_key(self) -> str:
        """Settings plus the user dictionary's content hash (editing the file changes the key)."""
        data = self.to_dict()
        if self.user_dict is not None:
            path = Path(self.user_dict)
            if not path.is_file():
                raise FileNotFoundError(f"jieba user dictionary not found: {path}")
            data["user_dict"] = hashlib.sha256(path.read_bytes()).hexdigest()
        return json.dumps(data, sort_keys=True)


class ReviewTokenizer:
    """Callable ``text -> list[str]``; whitespace never becomes a token.

    jieba is used through a private ``jieba.Tokenizer`` instance, so a user dictionary does
    not leak into other code that uses jieba's global tokenizer; its log messages are muted.
    """

    def __init__(self, config: TokenizerConfig | None = None) -> None:
        self.config = config or TokenizerConfig()
        self._jieba = None

    def __call__(self, text: str) -> list[str]:
        if self.config.nfkc:
            text = unicodedata.normalize("NFKC", text).lower()
        if self.config.kind == "char":
            return [ch for ch in text if not ch.isspace()]
        return [tok for tok in self._segmenter().lcut(text, HMM=self.config.hmm) if tok.strip()]

    def _segmenter(self):
        if self._jieba is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            segmenter = jieba.Tokenizer()
            if self.config.user_dict is not None:
                segmenter.load_userdict(str(self.config.user_dict))
            self._jieba = segmenter
        return self._jieba

    def tokenize_many(self, texts: Sequence[str], *, cache: bool = True, progress: bool = False) -> list[list[str]]:
        """Tokenise many texts; jieba results are read from / written to the disk cache.

        The cache file is ``cache_dir()/reviews/tokens-<key>.json`` with ``key`` the SHA-256 of
        the tokenizer settings (:meth:`TokenizerConfig.cache_key`) and of the texts themselves,
        so a different file, subset, cleaning or setting can never reuse stale tokens.
        Character tokens are cheaper to recompute than to load and are not cached.
        """
        texts = list(texts)
        use_cache = cache and self.config.kind == "word"
        path = self.cache_path(texts) if use_cache else None
        if path is not None and _is_file(path):
            try:
                tokens = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(tokens, list) and len(tokens) == len(texts):
                    return tokens
            except (OSError, ValueError):
                pass  # unreadable or truncated cache: recompute and overwrite it
        iterator: Iterable[str] = texts
        if progress and self.config.kind == "word":
            from tqdm.auto import tqdm

            iterator = tqdm(texts, desc="jieba 分词", unit="条", leave=False)
        tokens = [self(text) for text in iterator]
        if path is not None:
            try:
                atomic_write_text(path, json.dumps(tokens, ensure_ascii=False, separators=(",", ":")))
            except OSError as exc:
                _warn_cache_once(path.parent, exc)
        return tokens

    def cache_path(self, texts: Sequence[str]) -> Path:
        """Where the tokens of ``texts`` are (or would be) cached."""
        digest = hashlib.sha256(f"{_CACHE_FORMAT}\x00{self.config.cache_key()}".encode())
        for text in texts:
            digest.update(b"\x00")
            digest.update(text.encode("utf-8"))
        return cache_dir() / "reviews" / f"tokens-{digest.hexdigest()[:32]}.json"


_warned_cache_folders: set[str] = set()


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False


def _warn_cache_once(folder: Path, exc: OSError) -> None:
    """The token cache is an optimisation: say once per folder that it cannot be written, and go on."""
    if str(folder) in _warned_cache_folders:
        return
    _warned_cache_folders.add(str(folder))
    warnings.warn(
        f"the token cache {folder} is not writable ({exc.strerror or exc}); tokenising without it "
        "(set XDG_CACHE_HOME to a writable folder to cache jieba's work)",
        stacklevel=3,
    )

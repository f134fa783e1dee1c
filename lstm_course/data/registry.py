"""The datasets the course uses: where they come from and how to recognise a good copy."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dataset:
    """One downloadable file.

    Attributes:
        name: the key used with :func:`lstm_course.data.fetch`.
        filename: the file name in ``LSTM_COURSE_DATA`` and in the cache.
        url: the public URL it is downloaded from.
        sha256: hex digest every copy is verified against.
        description: one line for humans.
    """

    name: str
    filename: str
    url: str
    sha256: str
    description: str


#: Every dataset the course uses, by name (``lstm-course data list`` prints this table).
REGISTRY: dict[str, Dataset] = {
    ds.name: ds
    for ds in (
        Dataset(
            name="timemachine",
            filename="timemachine.txt",
            url="http://d2l-data.s3-accelerate.amazonaws.com/timemachine.txt",
            sha256="8424dbd9532ac81f7e5f0b6add90e6952baea29158309d7d1bf3884f4e12c516",
            description="H. G. Wells, The Time Machine (public domain), as served by d2l.",
        ),
        Dataset(
            name="online_shopping_10_cats",
            filename="online_shopping_10_cats.zip",
            url=(
                "https://github.com/SophonPlus/ChineseNlpCorpus/raw/master/datasets/"
                "online_shopping_10_cats/online_shopping_10_cats.zip"
            ),
            sha256="6816ded66fde9d0927ecbd370b5e12d0174d1abac35192ec014ac2a0a8d25858",
            description="Chinese product reviews, 10 categories, binary sentiment (62,774 rows).",
        ),
    )
}

"""The tags a physician puts on an imported study."""

from __future__ import annotations

from enum import StrEnum


class StudyTag(StrEnum):
    """What an imported study is for."""

    REFERENCE = "reference"
    SECOND_READ = "second-read"
    ARCHIVE = "archive"


#: The tag values, as the CLI and the config spell them.
TAGS: tuple[str, ...] = tuple(tag.value for tag in StudyTag)

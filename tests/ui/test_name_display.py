"""The window shows every component group of a name (ui.models.tables.format_name)."""

from __future__ import annotations

import pytest

from ui.models.tables import format_name


@pytest.mark.parametrize(
    ("pn", "shown"),
    [
        ("DOE^JANE", "DOE, JANE"),
        ("SMITH^JOHN^PAUL", "SMITH, JOHN PAUL"),
        ("DOE", "DOE"),
        ("YAMADA^TARO=山田^太郎=やまだ^たろう", "YAMADA, TARO · 山田 太郎 · やまだ たろう"),
        ("=山田^秀樹=やまだ^ひでき", "山田 秀樹 · やまだ ひでき"),
        ("PARK^JI HOON=朴^智勳=박^지훈", "PARK, JI HOON · 朴 智勳 · 박 지훈"),
        ("Иванов^Сергей", "Иванов, Сергей"),
        ("김민준", "김민준"),
        ("", ""),
    ],
)
def test_every_component_group_is_shown(pn, shown):
    assert format_name(pn) == shown

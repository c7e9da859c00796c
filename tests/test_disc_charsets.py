"""Patient names on discs in every character set: decoded with the set, defects named.

Discs are written by the tests byte for byte (tests.discs.write_named_disc)
and read by the real disc reader, with and without a DICOMDIR (dcmmkdir).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.charset import encode_string

from kiosk.media.scan import scan_medium
from tests.discs import write_named_disc

JIS = ["iso8859", "iso2022_jp"]


def _jis(text: str) -> bytes:
    return encode_string(text, JIS)


# 秀 is 0x3D28 in JIS X 0208: its first byte is the byte of '='.
HIDEKI = b"YAMADA^HIDEKI=" + _jis("山田^秀樹") + b"=" + _jis("やまだ^ひでき")
# 修 is 0x3D24, 俊 0x3D53: both start with '='; 巻 is 0x342C... '^' is 0x5E: 楡 0x5E5F.
SHU = _jis("佐藤^修") + b"=" + _jis("さとう^おさむ")

DECODED = [
    (HIDEKI, "\\ISO 2022 IR 87", "YAMADA^HIDEKI=山田^秀樹=やまだ^ひでき"),
    (b"=" + SHU, "\\ISO 2022 IR 87", "=佐藤^修=さとう^おさむ"),
    (b"=" + _jis("楡^俊"), "\\ISO 2022 IR 87", "=楡^俊"),
    ("Иванов^Сергей".encode("iso8859_5"), "ISO_IR 144", "Иванов^Сергей"),
    ("Παπαδόπουλος^Γεώργιος".encode("iso8859_7"), "ISO_IR 126", "Παπαδόπουλος^Γεώργιος"),
    ("ﾔﾏﾀﾞ^ﾀﾛｳ".encode("shift_jis"), "ISO_IR 13", "ﾔﾏﾀﾞ^ﾀﾛｳ"),
    (encode_string("김민준", ["iso8859", "euc_kr"]), "\\ISO 2022 IR 149", "김민준"),
    ("박^지훈=朴^智勳".encode(), "ISO_IR 192", "박^지훈=朴^智勳"),
]


@pytest.mark.parametrize("dicomdir", [False, True], ids=["files", "dicomdir"])
@pytest.mark.parametrize(("raw", "charset", "name"), DECODED)
def test_names_are_decoded_with_their_character_set(tmp_path: Path, raw, charset, name, dicomdir):
    write_named_disc(tmp_path, raw, charset, dicomdir=dicomdir)
    for deep in (True, False):
        scan = scan_medium(tmp_path, deep=deep)
        assert [i.patient_name for i in scan.instances] == [name]
        assert not [p for p in scan.problems if p.code.startswith("charset")]


DEFECTS = [
    ("Иванов^Сергей".encode("cp1251"), None, "charset-undeclared", "Иванов^Сергей"),
    ("Иванов^Сергей".encode("cp1251"), "ISO_IR 100", "charset-wrong", "Иванов^Сергей"),
    ("Иванов^Сергей".encode("cp1251"), "ISO_IR 144", "charset-wrong", "Иванов^Сергей"),
    ("Петров^Иван".encode("koi8_r"), "ISO_IR 144", "charset-wrong", "Петров^Иван"),
    # ISO 8859-7 bytes read as cp1251 make a plausible Cyrillic name too: the guess may
    # be either, and is marked as a guess
    ("Παπαδόπουλος^Γεώργιος".encode("iso8859_7"), None, "charset-undeclared", None),
    ("Παπαδόπουλος^Γεώργιος".encode("iso8859_7"), "ISO_IR 100", "charset-wrong", None),
    ("김^민준".encode("euc_kr"), "ISO_IR 192", "charset-wrong", "김^민준"),
    ("山田^太郎".encode("shift_jis"), None, "charset-undeclared", "山田^太郎"),
    ("Иванов^Сергей".encode(), None, "charset-undeclared", "Иванов^Сергей"),
]


@pytest.mark.parametrize(("raw", "charset", "code", "guess"), DEFECTS)
def test_a_name_in_an_undeclared_or_wrong_set_is_a_problem_with_a_marked_guess(
    tmp_path: Path, raw, charset, code, guess
):
    write_named_disc(tmp_path, raw, charset)
    scan = scan_medium(tmp_path)
    found = [p for p in scan.problems if p.code.startswith("charset")]
    assert [p.code for p in found] == [code]
    if "likely reading" in found[0].message:
        assert "likely reading (a guess, used only to list candidates for review)" in (
            found[0].message
        )
        assert found[0].guesses
    if guess is not None:
        assert guess in found[0].message
    # the name itself stays as the declared set reads it: the guess is never used
    assert guess is None or guess not in scan.instances[0].patient_name


@pytest.mark.parametrize(
    ("name", "charset", "codec"),
    [
        ("MÜLLER^JÜRGEN", "ISO_IR 100", "latin-1"),
        ("García López^María José", "ISO_IR 100", "latin-1"),
        ("ФЁДОРОВ^ЮРИЙ", "ISO_IR 144", "iso8859_5"),
        ("Νικολάου^Χρήστος", "ISO_IR 126", "iso8859_7"),
    ],
)
def test_names_in_their_declared_set_are_no_charset_problem(tmp_path: Path, name, charset, codec):
    write_named_disc(tmp_path, name.encode(codec), charset)
    scan = scan_medium(tmp_path)
    assert scan.instances[0].patient_name == name
    assert not [p for p in scan.problems if p.code.startswith("charset")]


@pytest.mark.parametrize(
    "charset",
    [
        None,
        "ISO_IR 100",
        "ISO_IR 13",
        "ISO_IR 144",
        "ISO_IR 126",
        "ISO_IR 192",
        "\\ISO 2022 IR 87",
        "\\ISO 2022 IR 149",
        "ISO 2022 IR 13\\ISO 2022 IR 87",
        "GB18030",
        "KOI8_R",
    ],
)
def test_garbage_name_bytes_in_any_set_never_raise(tmp_path: Path, charset):
    import random

    rng = random.Random(charset)
    pieces = [b"\x1b$B", b"\x1b(B", b"\x1b$)C", b"\x1b(J", b"^", b"=", b"\\", b"\x00", b"\xff"]
    for n in range(8):
        folder = tmp_path / str(n)
        raw = b"".join(
            rng.choice(pieces) if rng.random() < 0.2 else bytes([rng.randrange(1, 256)])
            for _ in range(rng.randint(1, 60))
        )
        write_named_disc(folder, raw, charset)
        for deep in (True, False):
            scan = scan_medium(folder, deep=deep)
            assert len(scan.instances) == 1
            scan.to_json()

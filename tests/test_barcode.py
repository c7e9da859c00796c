"""Barcode cleaning and MRN/accession classification (kiosk.barcode)."""

from __future__ import annotations

import pytest

from kiosk.barcode import BarcodeError, BarcodeRules, Kind, Scanned, classify, clean

SITE = BarcodeRules.from_dict(
    {
        "strip_prefix": ["]C1", "]", "*"],
        "strip_suffix": "*",
        "mrn_pattern": r"MRN\d{6}",
        "accession_pattern": r"ACC\d{8}",
    }
)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("MRN100234\r\n", "MRN100234"),
        ("  MRN100234\t", "MRN100234"),
        ("]C1MRN100234", "MRN100234"),  # the longest prefix wins over "]"
        ("]XMRN100234", "XMRN100234"),
        ("*MRN100234*", "MRN100234"),
        ("\x1dACC20260001\x04", "ACC20260001"),
        ("**MRN100234", "*MRN100234"),  # one prefix only
    ],
)
def test_clean(raw, value):
    assert clean(raw, SITE) == value


def test_clean_without_rules_trims_and_drops_the_code_39_asterisks():
    assert clean(" MRN1 \n") == "MRN1"
    assert clean(" *MRN1* \n") == "MRN1"  # Code 39 start and stop, passed on by the scanner
    assert clean("*MRN1") == "*MRN1"  # not a pair: left for the query's refusal


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("*MRN100234*\n", Scanned("MRN100234", Kind.MRN)),
        ("]C1ACC20260001", Scanned("ACC20260001", Kind.ACCESSION)),
        ("MRN1002345", Scanned("MRN1002345", Kind.UNKNOWN)),  # full match only
        ("HELLO", Scanned("HELLO", Kind.UNKNOWN)),
    ],
)
def test_classify(raw, expected):
    assert classify(raw, SITE) == expected


def test_classify_without_patterns_is_unknown():
    assert classify("MRN100234") == Scanned("MRN100234", Kind.UNKNOWN)


def test_classify_matching_both_patterns_is_unknown():
    rules = BarcodeRules.from_dict({"mrn_pattern": r"\d+", "accession_pattern": r"\d{8}"})
    assert classify("12345678", rules).kind is Kind.UNKNOWN
    assert classify("1234", rules).kind is Kind.MRN


def test_prefixes_sorted_longest_first():
    assert SITE.strip_prefix == ("]C1", "]", "*")
    assert SITE.strip_suffix == ("*",)


@pytest.mark.parametrize(
    ("data", "key", "message"),
    [
        ({"prefix": "*"}, "prefix", "unknown barcode setting"),
        ({"strip_prefix": 5}, "strip_prefix", "must be a string or a list of strings, not 5"),
        ({"strip_suffix": ["*", 1]}, "strip_suffix", "must be a string or a list of strings"),
        ({"mrn_pattern": "MRN("}, "mrn_pattern", "is not a valid regular expression"),
        ({"accession_pattern": 7}, "accession_pattern", "must be a regular expression string"),
    ],
)
def test_bad_settings(data, key, message):
    with pytest.raises(BarcodeError) as err:
        BarcodeRules.from_dict(data)
    assert err.value.key == key
    assert err.value.message.startswith(message)


def test_bad_barcode_config_names_file_and_key(tmp_path):
    from kiosk.config import load_config
    from kiosk.errors import ConfigError

    path = tmp_path / "k.toml"
    path.write_text('[barcode]\nmrn_pattern = "MRN["\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value).startswith(f"{path}: [barcode.mrn_pattern] is not a valid regular")


def test_barcode_config_is_kept(tmp_path):
    from kiosk.config import load_config

    path = tmp_path / "k.toml"
    path.write_text('[barcode]\nstrip_prefix = "*"\n', encoding="utf-8")
    assert load_config(path).barcode == {"strip_prefix": "*"}

"""Tests of ``kiosk/config.py``: loading, resolution of the file, validation errors."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from kiosk import paths
from kiosk.config import Config, Destination, Hl7Receiver, Peer, load_config
from kiosk.errors import ConfigError, UsageError

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "resources" / "kiosk.example.toml"

FULL = """\
[kiosk]
station = "FRONTDESK-1"
ae_title = "KIOSK"
issuer_of_patient_id = "MAINHOSP"
institution_name = "Main Hospital"

[worklist]
ae_title = "MWL"
host = "ris.example.org"
port = 104

[destinations.radiology]
ae_title = "RADPACS"
host = "pacs.example.org"
port = 104
label = "Radiology PACS"
department = "radiology"

[destinations.cardiology]
ae_title = "CARDPACS"
host = "cpacs.example.org"
port = 11112
label = "Cardiology PACS"
department = "cardiology"
max_pdu = 16384
associations = 3

[spool]
dir = "/var/lib/kiosk/spool"

[hl7]
host = "engine.example.org"
port = 2575
sending_application = "KIOSK"
sending_facility = "MAINHOSP"
receiving_application = "BILLING"
receiving_facility = "MAINHOSP"

[database]
url = "sqlite:////var/lib/kiosk/kiosk.sqlite3"

[billing]
second_read_code = "76140"
"""

MINIMAL_DEST = """\
[destinations.radiology]
ae_title = "RADPACS"
host = "pacs.example.org"
port = 104
"""


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test away from the real user's config and data dirs."""
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


def write(tmp_path: Path, text: str, name: str = "kiosk.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def config_error(path: Path | None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.exit_code == 2
    return info.value


# --- a full config -----------------------------------------------------------------------


def test_full_config_loads_with_the_right_values(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    cfg = load_config(path)

    assert isinstance(cfg, Config)
    assert cfg.path == path
    assert cfg.station == "FRONTDESK-1"
    assert cfg.ae_title == "KIOSK"
    assert cfg.issuer_of_patient_id == "MAINHOSP"
    assert cfg.institution_name == "Main Hospital"
    assert cfg.worklist == Peer("MWL", "ris.example.org", 104, timeout=15.0)
    assert list(cfg.destinations) == ["radiology", "cardiology"]
    assert cfg.destinations["radiology"] == Destination(
        ae_title="RADPACS",
        host="pacs.example.org",
        port=104,
        name="radiology",
        label="Radiology PACS",
        department="radiology",
        max_pdu=0,
        associations=1,
        timeout=60.0,
    )
    assert cfg.destinations["cardiology"] == Destination(
        ae_title="CARDPACS",
        host="cpacs.example.org",
        port=11112,
        name="cardiology",
        label="Cardiology PACS",
        department="cardiology",
        max_pdu=16384,
        associations=3,
        timeout=60.0,
    )
    assert cfg.spool_dir == Path("/var/lib/kiosk/spool")
    assert cfg.database_path == Path("/var/lib/kiosk/kiosk.sqlite3")
    assert cfg.hl7 == Hl7Receiver(
        host="engine.example.org",
        port=2575,
        sending_application="KIOSK",
        sending_facility="MAINHOSP",
        receiving_application="BILLING",
        receiving_facility="MAINHOSP",
    )
    # Unknown sections are kept for other modules, known ones are not repeated there.
    assert cfg.extra == {"billing": {"second_read_code": "76140"}}


def test_destination_lookup_by_name(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, FULL))
    assert cfg.destination("cardiology").ae_title == "CARDPACS"
    assert cfg.destination("radiology").port == 104
    assert cfg.label_of("radiology") == "Radiology PACS"
    assert cfg.label_of("neurology") == "neurology"  # a name the config no longer has


def test_unknown_destination_is_a_usage_error_naming_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    cfg = load_config(path)
    with pytest.raises(UsageError) as info:
        cfg.destination("neurology")
    message = str(info.value)
    assert "'neurology'" in message
    assert "cardiology, radiology" in message
    assert str(path) in message
    assert info.value.exit_code == 2


def test_defaults_of_a_minimal_config(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, MINIMAL_DEST))
    data_dir = tmp_path / "xdg-data" / paths.APP_NAME
    assert cfg.station == "KIOSK-1"
    assert cfg.ae_title == "KIOSK"
    assert cfg.worklist is None
    assert cfg.hl7 is None
    assert cfg.issuer_of_patient_id == ""
    assert cfg.institution_name == ""
    dest = cfg.destination("radiology")
    assert (dest.label, dest.department, dest.max_pdu, dest.associations, dest.timeout) == (
        "Radiology",
        "radiology",
        0,
        1,
        60.0,
    )
    # The database and the spool live in the platformdirs data dir (XDG_DATA_HOME moves it).
    assert cfg.spool_dir == data_dir / "spool"
    assert cfg.database_path == data_dir / "kiosk.sqlite3"


def test_database_path_key(tmp_path: Path) -> None:
    db = tmp_path / "db" / "k.sqlite3"
    cfg = load_config(write(tmp_path, f'[database]\npath = "{db}"\n'))
    assert cfg.database_path == db


def test_ae_title_surrounding_spaces_are_stripped(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, '[kiosk]\nae_title = " KIOSK2 "\n'))
    assert cfg.ae_title == "KIOSK2"


def test_sixteen_character_ae_title_is_accepted(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, '[kiosk]\nae_title = "ABCDEFGHIJKLMNOP"\n'))
    assert cfg.ae_title == "ABCDEFGHIJKLMNOP"


# --- where the file comes from --------------------------------------------------------------


def test_kiosk_config_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, FULL.replace("FRONTDESK-1", "FROM-ENV"), "env.toml")
    monkeypatch.setenv("KIOSK_CONFIG", str(path))
    cfg = load_config()
    assert cfg.path == path
    assert cfg.station == "FROM-ENV"


def test_platformdirs_user_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    xdg = tmp_path / "other-xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    expected = xdg / paths.APP_NAME / "kiosk.toml"
    expected.parent.mkdir(parents=True)
    expected.write_text(FULL.replace("FRONTDESK-1", "FROM-XDG"), encoding="utf-8")
    cfg = load_config()
    assert cfg.path == expected
    assert cfg.station == "FROM-XDG"


def test_environment_variable_wins_over_platformdirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_file = tmp_path / "xdg-config" / paths.APP_NAME / "kiosk.toml"
    user_file.parent.mkdir(parents=True)
    user_file.write_text(FULL.replace("FRONTDESK-1", "FROM-XDG"), encoding="utf-8")
    env_file = write(tmp_path, FULL.replace("FRONTDESK-1", "FROM-ENV"), "env.toml")
    monkeypatch.setenv("KIOSK_CONFIG", str(env_file))
    assert load_config().station == "FROM-ENV"


def test_explicit_path_wins_over_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = write(tmp_path, FULL.replace("FRONTDESK-1", "FROM-ENV"), "env.toml")
    explicit = write(tmp_path, FULL.replace("FRONTDESK-1", "EXPLICIT"), "explicit.toml")
    monkeypatch.setenv("KIOSK_CONFIG", str(env_file))
    assert load_config(explicit).station == "EXPLICIT"


def test_missing_default_file_names_the_platformdirs_path(tmp_path: Path) -> None:
    expected = tmp_path / "xdg-config" / paths.APP_NAME / "kiosk.toml"
    err = config_error(None)
    assert str(expected) in str(err)
    assert err.path == str(expected)


# --- errors name the file and the key ----------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    err = config_error(path)
    message = str(err)
    assert message.startswith(f"{path}: ")
    assert "not found" in message
    assert "KIOSK_CONFIG" in message


def test_not_toml(tmp_path: Path) -> None:
    path = write(tmp_path, "[kiosk\nstation = FRONTDESK\n")
    err = config_error(path)
    assert str(path) in str(err)
    assert "not valid TOML" in str(err)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_bytes(b'[kiosk]\nstation = "\xff\xfe"\n')
    err = config_error(path)
    assert str(path) in str(err)
    assert "not valid TOML" in str(err)


def test_directory_instead_of_file(tmp_path: Path) -> None:
    path = tmp_path / "adir.toml"
    path.mkdir()
    err = config_error(path)
    assert str(path) in str(err)
    assert "cannot read" in str(err)


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        # wrong types
        ("[kiosk]\nstation = 12\n", "kiosk.station", "must be a string"),
        ('[worklist]\nae_title = "MWL"\nhost = "h"\nport = "104"\n', "worklist.port", "whole"),
        ('[worklist]\nae_title = "MWL"\nhost = "h"\nport = true\n', "worklist.port", "whole"),
        ('[worklist]\nae_title = "MWL"\nhost = "h"\nport = 104.0\n', "worklist.port", "whole"),
        ('kiosk = "FRONTDESK"\n', "kiosk", "section"),
        ('[destinations]\nradiology = "RADPACS"\n', "destinations.radiology", "section"),
        # bad ports
        (
            MINIMAL_DEST.replace("port = 104", "port = 70000"),
            "destinations.radiology.port",
            "65535",
        ),
        (MINIMAL_DEST.replace("port = 104", "port = 0"), "destinations.radiology.port", "between"),
        ('[hl7]\nhost = "h"\nport = -1\n', "hl7.port", "between"),
        # bad AE titles
        ('[kiosk]\nae_title = "ABCDEFGHIJKLMNOPQ"\n', "kiosk.ae_title", "not a valid AE title"),
        ('[kiosk]\nae_title = "KIO\\\\SK"\n', "kiosk.ae_title", "not a valid AE title"),
        ('[kiosk]\nae_title = ""\n', "kiosk.ae_title", "not a valid AE title"),
        ('[kiosk]\nae_title = "    "\n', "kiosk.ae_title", "not a valid AE title"),
        (
            MINIMAL_DEST.replace('"RADPACS"', '"RADPACS\\tX"'),
            "destinations.radiology.ae_title",
            "not a valid AE title",
        ),
        # missing required keys
        (
            MINIMAL_DEST.replace('host = "pacs.example.org"\n', ""),
            "destinations.radiology.host",
            "required",
        ),
        (MINIMAL_DEST.replace("port = 104\n", ""), "destinations.radiology.port", "required"),
        (
            MINIMAL_DEST.replace('ae_title = "RADPACS"\n', ""),
            "destinations.radiology.ae_title",
            "required",
        ),
        ('[worklist]\nae_title = "MWL"\nport = 104\n', "worklist.host", "required"),
        ("[hl7]\nport = 2575\n", "hl7.host", "required"),
        # other bad values
        (MINIMAL_DEST + "associations = 0\n", "destinations.radiology.associations", "between"),
        (MINIMAL_DEST + "associations = 17\n", "destinations.radiology.associations", "between"),
        (MINIMAL_DEST + "max_pdu = -5\n", "destinations.radiology.max_pdu", "between"),
        (MINIMAL_DEST + "timeout = 0\n", "destinations.radiology.timeout", "between"),
        ("[spool]\ndir = 5\n", "spool.dir", "must be a string"),
        ('[database]\nurl = "mysql://db/kiosk"\n', "database.url", "sqlite"),
    ],
)
def test_invalid_value_names_file_and_key(tmp_path: Path, text: str, key: str, words: str) -> None:
    path = write(tmp_path, text)
    assert isinstance(tomllib.loads(text), dict)  # the test input itself is valid TOML
    err = config_error(path)
    message = str(err)
    assert str(path) in message
    assert f"[{key}]" in message
    assert words in message
    assert err.key == key
    assert err.path == str(path)


def test_ae_title_with_backslash_is_rejected_exactly(tmp_path: Path) -> None:
    # A literal string: the AE title really holds a backslash.
    path = write(tmp_path, "[worklist]\nae_title = 'MW\\L'\nhost = \"h\"\nport = 104\n")
    err = config_error(path)
    assert err.key == "worklist.ae_title"
    assert "'MW\\\\L'" in str(err)  # repr of the value in the message


def test_seventeen_character_ae_title_in_destination(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL_DEST.replace('"RADPACS"', '"RADPACS-RADPACS-1"'))
    err = config_error(path)
    assert "RADPACS-RADPACS-1" in str(err)
    assert str(path) in str(err)
    assert "[destinations.radiology.ae_title]" in str(err)


# --- the commented example in resources/ -----------------------------------------------------


def test_example_config_loads(tmp_path: Path) -> None:
    assert EXAMPLE.is_file()
    cfg = load_config(EXAMPLE)
    assert cfg.station == "FRONTDESK-1"
    assert cfg.ae_title == "KIOSK"
    assert cfg.issuer_of_patient_id == "MAINHOSP"
    assert cfg.institution_name == "Main Hospital"
    assert cfg.worklist == Peer("MWL", "ris.example.org", 104, timeout=15.0)
    assert sorted(cfg.destinations) == ["cardiology", "radiology"]
    assert cfg.destination("radiology").label == "Radiology PACS"
    assert cfg.destination("cardiology").max_pdu == 16384
    assert cfg.destination("cardiology").associations == 2
    assert cfg.spool_dir == Path("/var/lib/kiosk/spool")
    assert cfg.database_path == Path("/var/lib/kiosk/kiosk.sqlite3")
    assert cfg.hl7 is not None
    assert cfg.hl7.port == 2575
    assert cfg.hl7.receiving_application == "BILLING"
    assert cfg.extra == {}


def test_example_config_has_every_documented_key() -> None:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert set(data["kiosk"]) >= {"station", "ae_title", "issuer_of_patient_id", "institution_name"}
    assert set(data["worklist"]) == {"ae_title", "host", "port", "timeout"}
    for name in ("radiology", "cardiology"):
        assert set(data["destinations"][name]) == {
            "ae_title",
            "host",
            "port",
            "label",
            "department",
            "max_pdu",
            "associations",
        }
    assert set(data["spool"]) == {"dir", "retention_days"}
    assert set(data["hl7"]) == {
        "host",
        "port",
        "sending_application",
        "sending_facility",
        "receiving_application",
        "receiving_facility",
        "order_message",
        "service_code",
        "timeout",
        "tries",
        "backoff_ms",
    }
    assert "path" in data["database"]
    text = EXAMPLE.read_text(encoding="utf-8")
    assert "# url = " in text  # the URL form is documented, commented out
    assert text.count("\n#") >= 10  # it is a commented example


def test_hl7_keys_are_read_and_checked(tmp_path: Path) -> None:
    cfg = tmp_path / "k.toml"
    cfg.write_text(
        '[hl7]\nhost = "engine"\nport = 2575\norder_message = "OMI^O23"\n'
        'service_code = "XR2"\ntimeout = 5\ntries = 2\nbackoff_ms = 250\n',
        encoding="utf-8",
    )
    hl7 = load_config(cfg).hl7
    assert hl7 is not None
    assert (hl7.order_message, hl7.service_code, hl7.timeout, hl7.tries, hl7.backoff) == (
        "OMI^O23",
        "XR2",
        5.0,
        2,
        0.25,
    )
    cfg.write_text('[hl7]\nhost = "engine"\nport = 2575\ntries = 0\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"hl7\.tries"):
        load_config(cfg)

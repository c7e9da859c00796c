"""The kiosk's TOML configuration: loading, validation and defaults.

The keys and their meaning are fixed by ``CLI.md``; errors name the file and
the key so that support staff can fix the file without reading code.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk import paths
from kiosk.errors import ConfigError
from reconcile.coerce import CoercionRules

_AE_TITLE = re.compile(r"^[\x20-\x5b\x5d-\x7e]{1,16}$")  # no backslash, printable, 1..16


@dataclass(frozen=True)
class Peer:
    """A DICOM peer: AE title, host and port."""

    ae_title: str
    host: str
    port: int


@dataclass(frozen=True)
class Destination(Peer):
    """A storage destination (a PACS) the user can pick."""

    name: str = ""
    label: str = ""
    department: str = ""
    max_pdu: int = 0
    associations: int = 1
    coercion: CoercionRules = field(default_factory=CoercionRules)


@dataclass(frozen=True)
class Hl7Receiver:
    """Where second-read messages for billing go (MLLP)."""

    host: str
    port: int
    sending_application: str = "KIOSK"
    sending_facility: str = ""
    receiving_application: str = ""
    receiving_facility: str = ""


@dataclass(frozen=True)
class Config:
    """A validated kiosk configuration."""

    path: Path
    station: str
    ae_title: str
    worklist: Peer | None
    destinations: dict[str, Destination]
    spool_dir: Path
    database_path: Path
    issuer_of_patient_id: str = ""
    institution_name: str = ""
    hl7: Hl7Receiver | None = None
    unscheduled: str = "send"
    extra: dict[str, Any] = field(default_factory=dict)

    def destination(self, name: str) -> Destination:
        """Return the destination called ``name``.

        Raises
        ------
        UsageError
            If no destination of that name is configured.
        """
        from kiosk.errors import UsageError

        try:
            return self.destinations[name]
        except KeyError:
            known = ", ".join(sorted(self.destinations)) or "none"
            raise UsageError(
                f"unknown destination {name!r}: configured are {known} (see {self.path})"
            ) from None


class _Reader:
    """Typed access to one TOML table, raising ConfigError that names file and key."""

    def __init__(self, path: Path, table: dict[str, Any], prefix: str) -> None:
        self.path = path
        self.table = table
        self.prefix = prefix

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def error(self, name: str, message: str) -> ConfigError:
        return ConfigError(str(self.path), message, key=self.key(name))

    def string(self, name: str, default: str | None = None) -> str:
        value = self.table.get(name, default)
        if value is None:
            raise self.error(name, "is required but missing; add it to the file")
        if not isinstance(value, str):
            raise self.error(name, f"must be a string, not {type(value).__name__}")
        return value

    def ae_title(self, name: str, default: str | None = None) -> str:
        value = self.string(name, default)
        if not _AE_TITLE.match(value) or not value.strip():
            raise self.error(
                name, f"{value!r} is not a valid AE title (1-16 printable characters, no '\\')"
            )
        return value.strip()

    def integer(self, name: str, default: int | None = None, lo: int = 0, hi: int = 2**31) -> int:
        value = self.table.get(name, default)
        if value is None:
            raise self.error(name, "is required but missing; add it to the file")
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(name, f"must be a whole number, not {value!r}")
        if not lo <= value <= hi:
            raise self.error(name, f"must be between {lo} and {hi}, not {value}")
        return value

    def port(self, name: str, default: int | None = None) -> int:
        return self.integer(name, default, lo=1, hi=65535)

    def sub(self, name: str, required: bool = False) -> _Reader | None:
        value = self.table.get(name)
        if value is None:
            if required:
                raise self.error(name, "section is required but missing")
            return None
        if not isinstance(value, dict):
            raise self.error(name, "must be a section ([...]) of keys")
        return _Reader(self.path, value, self.key(name))


def load_config(path: Path | None = None) -> Config:
    """Load and validate the kiosk configuration.

    Parameters
    ----------
    path
        The TOML file; ``None`` means ``$KIOSK_CONFIG``, else the per-user file.

    Raises
    ------
    ConfigError
        If the file is missing, unreadable, not TOML, or a key is invalid.
    """
    path = path or paths.config_file_from_env()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            str(path),
            "config file not found; pass --config FILE, set KIOSK_CONFIG, or copy "
            "resources/kiosk.example.toml there",
        ) from None
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read the config file ({exc.strerror})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), f"not valid TOML: {exc}") from None
    return parse_config(data, path)


def parse_config(data: dict[str, Any], path: Path) -> Config:
    """Validate an already parsed TOML document (see :func:`load_config`)."""
    root = _Reader(path, data, "")
    kiosk = root.sub("kiosk") or _Reader(path, {}, "kiosk")
    station = kiosk.string("station", "KIOSK-1")
    ae_title = kiosk.ae_title("ae_title", "KIOSK")

    worklist: Peer | None = None
    wl = root.sub("worklist")
    if wl is not None:
        worklist = Peer(wl.ae_title("ae_title"), wl.string("host"), wl.port("port"))

    site_rules = _coercion_rules(root.sub("coercion"), CoercionRules())
    destinations: dict[str, Destination] = {}
    dests = root.sub("destinations")
    if dests is not None:
        for name in dests.table:
            d = dests.sub(name, required=True)
            assert d is not None
            destinations[name] = Destination(
                ae_title=d.ae_title("ae_title"),
                host=d.string("host"),
                port=d.port("port"),
                name=name,
                label=d.string("label", name.title()),
                department=d.string("department", name),
                max_pdu=d.integer("max_pdu", 0),
                associations=d.integer("associations", 1, lo=1, hi=16),
                coercion=_coercion_rules(d.sub("coercion"), site_rules),
            )

    spool = root.sub("spool")
    spool_dir = Path(spool.string("dir")) if spool and "dir" in spool.table else None
    database = root.sub("database")
    db_path: Path | None = None
    if database is not None:
        if "path" in database.table:
            db_path = Path(database.string("path"))
        elif "url" in database.table:
            url = database.string("url")
            if url.startswith("sqlite:///"):
                db_path = Path(url.removeprefix("sqlite:///"))
            else:
                raise database.error(
                    "url", f"{url!r}: only sqlite:/// URLs are supported in this version"
                )
    data_dir = paths.data_dir()
    hl7: Hl7Receiver | None = None
    h = root.sub("hl7")
    if h is not None:
        hl7 = Hl7Receiver(
            host=h.string("host"),
            port=h.port("port"),
            sending_application=h.string("sending_application", "KIOSK"),
            sending_facility=h.string("sending_facility", ""),
            receiving_application=h.string("receiving_application", ""),
            receiving_facility=h.string("receiving_facility", ""),
        )
    return Config(
        path=path,
        station=station,
        ae_title=ae_title,
        worklist=worklist,
        destinations=destinations,
        spool_dir=spool_dir or data_dir / "spool",
        database_path=db_path or data_dir / "kiosk.sqlite3",
        issuer_of_patient_id=kiosk.string("issuer_of_patient_id", ""),
        institution_name=kiosk.string("institution_name", ""),
        hl7=hl7,
        unscheduled=_unscheduled_policy(root.sub("reconcile")),
        extra={k: v for k, v in data.items() if k not in _KNOWN_SECTIONS},
    )


def _coercion_rules(table: _Reader | None, base: CoercionRules) -> CoercionRules:
    """Read a ``coercion`` table over ``base`` (site defaults, then per destination)."""
    if table is None:
        return base
    merged = {**base.__dict__, **table.table}
    try:
        return CoercionRules.from_mapping(merged)
    except KeyError as exc:
        raise table.error(str(exc.args[0]), "is not a coercion setting") from None
    except TypeError as exc:
        key = str(exc.args[0])
        hint = "COERCE or CORRECT" if key == "reason" else "true or false"
        raise table.error(key, f"must be {hint}") from None


def _unscheduled_policy(table: _Reader | None) -> str:
    """``send`` (default) or ``hold``: what happens to a study imported without an order."""
    if table is None:
        return "send"
    value = table.string("unscheduled", "send")
    if value not in ("send", "hold"):
        raise table.error("unscheduled", f"must be 'send' or 'hold', not {value!r}")
    return value


_KNOWN_SECTIONS = {
    "kiosk",
    "worklist",
    "destinations",
    "spool",
    "database",
    "hl7",
    "coercion",
    "reconcile",
}

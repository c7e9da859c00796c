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
from reconcile.rules import CoercionRules

#: ``[send] engine``: the kiosk's fast C-STORE SCU (:mod:`kiosk.net.store`), or
#: pynetdicom's C-STORE (:mod:`kiosk.net.pynetdicom_store`).
SEND_ENGINES = ("fast", "pynetdicom")

_AE_TITLE = re.compile(r"^[\x20-\x5b\x5d-\x7e]{1,16}$")  # no backslash, printable, 1..16


@dataclass(frozen=True)
class Peer:
    """A DICOM peer: AE title, host and port."""

    ae_title: str
    host: str
    port: int
    timeout: float = 0.0  # seconds per network step; 0: the kiosk's defaults
    tls: bool = False
    tls_cert: str = ""  # our certificate (PEM), for peers that check the client
    tls_key: str = ""
    tls_ca: str = ""  # CA bundle (PEM) to verify the peer; empty: the system's


@dataclass(frozen=True)
class Destination(Peer):
    """A storage destination (a PACS) the user can pick."""

    name: str = ""
    label: str = ""
    department: str = ""
    max_pdu: int = 0
    associations: int = 1
    coercion: CoercionRules = field(default_factory=CoercionRules)
    transfer_syntaxes: tuple[str, ...] = ()  # uncompressed syntaxes offered, in order
    storage_commitment: bool = False
    #: Send an IOCM rejection note (KOS, "Incorrect Modality Worklist Entry") for the old
    #: copy of a study corrected after it was sent; for PACS that act on them (dcm4chee,
    #: Orthanc stores them). Otherwise the old copy is flagged for the PACS administrator.
    rejection_notes: bool = False


@dataclass(frozen=True)
class Hl7Receiver:
    """Where second-read messages for billing go (MLLP)."""

    host: str
    port: int
    sending_application: str = "KIOSK"
    sending_facility: str = ""
    receiving_application: str = ""
    receiving_facility: str = ""
    #: The order request of a second read: "ORM^O01" (default) or "OMI^O23".
    order_message: str = "ORM^O01"
    #: The charge code of a second read (OBR-4, FT1-7).
    service_code: str = "SECOND-READ"
    #: Seconds to wait for a connection and for each ACK.
    timeout: float = 10.0
    #: Tries of one message in one run before it waits for the next run (with backoff).
    tries: int = 3
    #: Seconds before the second try; doubled for each further try.
    backoff: float = 1.0


@dataclass(frozen=True)
class AuditCollector(Peer):
    """``[audit]``: the IHE ATNA audit record repository (RFC 5424 syslog over TCP or TLS).

    ``ae_title`` is unused (an ATNA collector is not a DICOM peer); ``timeout``
    bounds the connection and each write.
    """


@dataclass(frozen=True)
class Deidentify:
    """``[deidentify]``: the options of the PS3.15 Basic Confidentiality Profile for exports."""

    retain_dates: bool = False  # Retain Longitudinal Temporal Information, Full Dates Option
    clean_descriptors: bool = False  # Clean Descriptors Option (descriptions kept, cleaned)


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
    listen_port: int = 0  # where PACS send storage commitment results (N-EVENT-REPORT)
    #: The address the commitment listener binds to; "" (default): the local address
    #: through which this computer reaches the PACS that commit (not every interface).
    listen_host: str = ""
    #: Seconds without an answer after which a storage commitment request is made again.
    commitment_timeout: float = 60.0
    #: Seconds ``kiosk send`` waits, after delivering, for answers to what it asked (0: none).
    commitment_wait: float = 10.0
    max_queue_hours: int = 72  # an instance not delivered by then moves to 'failed' (0: never)
    retention_days: int = 30  # committed studies leave the spool after this many days
    matching: dict[str, float] = field(default_factory=dict)  # [matching] thresholds
    barcode: dict[str, Any] = field(default_factory=dict)  # [barcode] settings
    media: MediaSettings = field(default_factory=lambda: MediaSettings())  # [media]
    #: [patient_source]: a C-FIND SCP (Patient Root) that confirms an MRN imported without
    #: an order, besides the worklist and the destination PACS.
    patient_source: Destination | None = None
    send_engine: str = "fast"  # [send] engine: one of SEND_ENGINES
    audit_collector: AuditCollector | None = None  # [audit]: where ATNA audit messages go
    lock_minutes: int = 10  # [kiosk] lock_minutes: the window locks when idle so long (0: never)
    fullscreen: bool = False  # [kiosk] fullscreen: the window fills the screen (kiosk mode)
    deidentify: Deidentify = field(default_factory=Deidentify)  # [deidentify]

    def label_of(self, name: str) -> str:
        """Return what users call a destination: its label, else its name (also if unknown)."""
        dest = self.destinations.get(name)
        return (dest.label if dest else "") or name

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

    def boolean(self, name: str, default: bool) -> bool:
        value = self.table.get(name, default)
        if not isinstance(value, bool):
            raise self.error(name, f"must be true or false, not {value!r}")
        return value

    def string_list(self, name: str) -> list[str]:
        value = self.table.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(name, f"must be a list of strings, not {value!r}")
        return value

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

    The configured spool folder, the kiosk's own, is made private to this user
    if it exists and let others in (:func:`kiosk.paths.private_folders`).

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
    config = parse_config(data, path)
    paths.private_folders(config.spool_dir)  # PHI: 0700, also if an older kiosk made it 0755
    return config


def parse_config(data: dict[str, Any], path: Path) -> Config:
    """Validate an already parsed TOML document (see :func:`load_config`)."""
    root = _Reader(path, data, "")
    kiosk = root.sub("kiosk") or _Reader(path, {}, "kiosk")
    station = kiosk.string("station", "KIOSK-1")
    ae_title = kiosk.ae_title("ae_title", "KIOSK")

    worklist: Peer | None = None
    wl = root.sub("worklist")
    if wl is not None:
        worklist = Peer(
            wl.ae_title("ae_title"),
            wl.string("host"),
            wl.port("port"),
            timeout=float(wl.integer("timeout", 15, lo=1, hi=600)),
            **_tls_options(wl),
        )

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
                timeout=float(d.integer("timeout", 60, lo=1, hi=600)),
                coercion=_coercion_rules(d.sub("coercion"), site_rules),
                **_send_options(d),
            )

    patient_source: Destination | None = None
    ps = root.sub("patient_source")
    if ps is not None:
        patient_source = Destination(
            ae_title=ps.ae_title("ae_title"),
            host=ps.string("host"),
            port=ps.port("port"),
            name="patient_source",
            label=ps.string("label", "patient source"),
            timeout=float(ps.integer("timeout", 15, lo=1, hi=600)),
            **_tls_options(ps),
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
            order_message=_order_message(h),
            service_code=h.string("service_code", "SECOND-READ"),
            timeout=float(h.integer("timeout", 10, lo=1, hi=600)),
            tries=h.integer("tries", 3, lo=1, hi=20),
            backoff=float(h.integer("backoff_ms", 1000, lo=0, hi=600_000)) / 1000,
        )
    return Config(
        path=path,
        station=station,
        ae_title=ae_title,
        worklist=worklist,
        destinations=destinations,
        spool_dir=spool_dir or data_dir / "spool",
        retention_days=spool.integer("retention_days", 30, lo=0, hi=3650) if spool else 30,
        database_path=db_path or data_dir / "kiosk.sqlite3",
        issuer_of_patient_id=kiosk.string("issuer_of_patient_id", ""),
        institution_name=kiosk.string("institution_name", ""),
        hl7=hl7,
        unscheduled=_unscheduled_policy(root.sub("reconcile")),
        extra={k: v for k, v in data.items() if k not in _KNOWN_SECTIONS},
        listen_port=kiosk.integer("listen_port", 0, lo=0, hi=65535),
        listen_host=kiosk.string("listen_host", "").strip(),
        commitment_timeout=float(kiosk.integer("commitment_timeout", 60, lo=1, hi=24 * 3600)),
        commitment_wait=float(kiosk.integer("commitment_wait", 10, lo=0, hi=3600)),
        max_queue_hours=kiosk.integer("max_queue_hours", 72, lo=0, hi=24 * 365),
        matching=_matching(root.sub("matching")),
        barcode=_barcode(root.sub("barcode")),
        media=_media(root.sub("media")),
        patient_source=patient_source,
        send_engine=_send_engine(root.sub("send")),
        audit_collector=_audit_collector(root.sub("audit")),
        lock_minutes=kiosk.integer("lock_minutes", 10, lo=0, hi=24 * 60),
        fullscreen=kiosk.boolean("fullscreen", False),
        deidentify=_deidentify(root.sub("deidentify")),
    )


def _audit_collector(table: _Reader | None) -> AuditCollector | None:
    """``[audit]``: host, port (default 6514 with TLS, else 601) and the TLS keys."""
    if table is None:
        return None
    tls = _tls_options(table)
    return AuditCollector(
        ae_title="",
        host=table.string("host"),
        port=table.port("port", 6514 if tls["tls"] else 601),
        timeout=float(table.integer("timeout", 10, lo=1, hi=600)),
        **tls,
    )


def _deidentify(table: _Reader | None) -> Deidentify:
    if table is None:
        return Deidentify()
    return Deidentify(
        retain_dates=table.boolean("retain_dates", False),
        clean_descriptors=table.boolean("clean_descriptors", False),
    )


def _order_message(table: _Reader) -> str:
    """``[hl7] order_message``: ``ORM^O01`` (default) or ``OMI^O23``."""
    value = table.string("order_message", "ORM^O01")
    if value not in ("ORM^O01", "OMI^O23"):
        raise table.error("order_message", f"must be 'ORM^O01' or 'OMI^O23', not {value!r}")
    return value


def _send_engine(table: _Reader | None) -> str:
    """``[send] engine``: ``fast`` (default) or ``pynetdicom``."""
    if table is None:
        return "fast"
    value = table.string("engine", "fast")
    if value not in SEND_ENGINES:
        choices = " or ".join(repr(e) for e in SEND_ENGINES)
        raise table.error("engine", f"must be {choices}, not {value!r}")
    return value


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


def _matching(table: _Reader | None) -> dict[str, float]:
    """The ``[matching]`` thresholds, checked by :class:`reconcile.rules.MatchRules`."""
    if table is None:
        return {}
    from reconcile.rules import MatchRules

    try:
        MatchRules.from_dict(table.table)
    except (KeyError, ValueError) as exc:
        key, _, message = str(exc.args[0]).partition(": ")
        raise table.error(key, message) from None
    return {k: float(v) for k, v in table.table.items()}


def _barcode(table: _Reader | None) -> dict[str, Any]:
    """The ``[barcode]`` settings, checked by :class:`kiosk.barcode.BarcodeRules`."""
    if table is None:
        return {}
    from kiosk.barcode import BarcodeError, BarcodeRules

    try:
        BarcodeRules.from_dict(table.table)
    except BarcodeError as exc:
        raise table.error(exc.key, exc.message) from None
    return dict(table.table)


def _unscheduled_policy(table: _Reader | None) -> str:
    """``send`` (default) or ``hold``: what happens to a study imported without an order."""
    if table is None:
        return "send"
    value = table.string("unscheduled", "send")
    if value not in ("send", "hold"):
        raise table.error("unscheduled", f"must be 'send' or 'hold', not {value!r}")
    return value


# Transfer syntaxes a destination may list in ``transfer_syntaxes`` (the kiosk decodes
# compressed files into these when the PACS does not take the file's own syntax).
UNCOMPRESSED_SYNTAXES = {
    "1.2.840.10008.1.2.1": "Explicit VR Little Endian",
    "1.2.840.10008.1.2": "Implicit VR Little Endian",
}


def _tls_options(d: _Reader) -> dict[str, Any]:
    """Read a peer's TLS keys (``tls``, ``tls_ca``, ``tls_cert``, ``tls_key``).

    The same keys with the same meaning for destinations, the worklist and
    the patient source; :func:`kiosk.net.association.tls_context` makes their context.
    """
    tls = d.boolean("tls", False)
    files: dict[str, str] = {}
    for key in ("tls_cert", "tls_key", "tls_ca"):
        files[key] = d.string(key, "")
        if files[key] and not Path(files[key]).is_file():
            raise d.error(key, f"{files[key]!r} is not a readable file; fix the path")
    if bool(files["tls_cert"]) != bool(files["tls_key"]):
        raise d.error("tls_key", "tls_cert and tls_key go together; give both or neither")
    if not tls and any(files.values()):
        raise d.error("tls", "certificates are given but tls = false; set tls = true")
    return {"tls": tls, **files}


def _send_options(d: _Reader) -> dict[str, Any]:
    """Read a destination's sending keys: TLS, offered syntaxes, storage commitment."""
    tls = _tls_options(d)
    syntaxes = d.string_list("transfer_syntaxes")
    for uid in syntaxes:
        if uid not in UNCOMPRESSED_SYNTAXES:
            known = ", ".join(f"{k} ({v})" for k, v in UNCOMPRESSED_SYNTAXES.items())
            raise d.error("transfer_syntaxes", f"{uid!r} is not one of {known}")
    return {
        **tls,
        "transfer_syntaxes": tuple(syntaxes),
        "storage_commitment": d.boolean("storage_commitment", False),
        "rejection_notes": d.boolean("rejection_notes", False),
    }


@dataclass(frozen=True)
class MediaSettings:
    """``[media]``: ejecting after the copy, the drop folder, how often drives are polled."""

    eject_after_copy: bool = False
    drop_folder: Path | None = None
    poll_interval: float = 1.0
    drop_settle_seconds: float = 1.0
    """How long a drop-folder entry must be quiet (and the same at two looks) to count."""


def _media(m: _Reader | None) -> MediaSettings:
    if m is None:
        return MediaSettings()
    drop = m.string("drop_folder", "")
    if drop and not Path(drop).is_absolute():
        raise m.error("drop_folder", f"{drop!r} must be an absolute path")
    interval = m.table.get("poll_interval", 1.0)
    if (
        isinstance(interval, bool)
        or not isinstance(interval, int | float)
        or not (0.05 <= interval <= 60)
    ):
        raise m.error("poll_interval", f"must be seconds between 0.05 and 60, not {interval!r}")
    settle = m.table.get("drop_settle_seconds", 1.0)
    if (
        isinstance(settle, bool)
        or not isinstance(settle, int | float)
        or not (0.1 <= settle <= 600)
    ):
        raise m.error("drop_settle_seconds", f"must be seconds between 0.1 and 600, not {settle!r}")
    return MediaSettings(
        eject_after_copy=m.boolean("eject_after_copy", False),
        drop_folder=Path(drop) if drop else None,
        poll_interval=float(interval),
        drop_settle_seconds=float(settle),
    )


_KNOWN_SECTIONS = {
    "media",
    "kiosk",
    "worklist",
    "patient_source",
    "destinations",
    "spool",
    "database",
    "hl7",
    "coercion",
    "reconcile",
    "matching",
    "barcode",
    "send",
    "audit",
    "deidentify",
}

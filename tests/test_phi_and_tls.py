"""PHI at rest and TLS that says what is wrong, against real peers and real ``kiosk`` processes.

* Every file a ``kiosk import`` creates (database, its ``-wal``/``-shm``,
  spool, log) is 0600 in folders 0700, although the child starts with umask
  022, and the log holds no patient name (a library warning that quotes one
  keeps only where it came from).
* A TLS destination or worklist whose certificate is signed by a CA we do not
  trust is named as such (a PeerError, exit 4 for ``kiosk echo``; an import
  keeps the study queued, exit 6, and its warning says why), for the lean
  C-STORE SCU and for pynetdicom alike; with ``tls_ca`` set to that CA it works.
* The storage-commitment listener takes reports only from the destinations'
  AE titles, and by default listens on the address facing the PACS only.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import ssl
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydicom import config as pydicom_config
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from kiosk.config import parse_config
from kiosk.errors import PeerError
from kiosk.send.sender import Context, ContextPlan, StoreConnection
from kiosk.worklist import WorklistQuery, find
from tests.discs import ct_instance, make_dicomdir, write_ct_disc
from tests.kiosk_config import write_config
from tests.peers import StorageServer, WorklistServer, free_port, make_worklist_item

OPENSSL = "/usr/bin/openssl"
REPO = Path(__file__).resolve().parent.parent
# Distinctive names: the disc's patient, and our patient on the worklist.
DISC_NAME = ("ZWEISTEIN", "QUIRINUS")
WORKLIST_NAME = ("HOLZAPFEL", "BARTHOLOMAEUS")
CT = "1.2.840.10008.5.1.4.1.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"


def kiosk(*args: str, fault: str = "") -> subprocess.CompletedProcess[str]:
    """Run ``python -m kiosk`` in a child that starts with umask 022 (this test's XDG dirs)."""
    env = {k: v for k, v in os.environ.items() if k != "KIOSK_FAULT"}
    if fault:
        env["KIOSK_FAULT"] = fault
    command = shlex.join([sys.executable, "-m", "kiosk", *args])
    return subprocess.run(
        ["/bin/sh", "-c", f"umask 022 && exec {command}"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
        check=False,
    )


def write_disc(root: Path, count: int = 3) -> str:
    """A disc from a writer that gave PatientName the VR CS; return its Study Instance UID.

    The disc's value is a valid CS ("ZWEISTEIN QUIRINUS"); when coercion sets
    our patient's name ("HOLZAPFEL^BARTHOLOMAEUS") in that element, pydicom
    warns that it is not a valid CS, quoting the name.
    """
    study, series = generate_uid(), generate_uid()
    name = " ".join(DISC_NAME)
    for n in range(1, count + 1):
        ds = ct_instance(
            patient_id="EXT-4711",
            patient_name=name,
            birth_date="19700101",
            sex="F",
            study_uid=study,
            series_uid=series,
            number=n,
        )
        ds[0x00100010] = DataElement(0x00100010, "CS", name, validation_mode=pydicom_config.IGNORE)
        path = root / "DICOM" / "P0000001" / f"I{n:07d}"
        path.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(path, enforce_file_format=True)
    make_dicomdir(root)
    return study


def created(*roots: Path) -> list[Path]:
    """Every file and folder under ``roots`` (the roots included) that exists."""
    found: list[Path] = []
    for root in roots:
        if root.exists():
            found.append(root)
            found += sorted(root.rglob("*"))
    return found


def loose(paths: list[Path]) -> list[str]:
    """The paths whose mode is not 0600 (files) or 0700 (folders), with their mode."""
    out = []
    for path in paths:
        mode = stat.S_IMODE(path.lstat().st_mode)
        wanted = 0o700 if path.is_dir() else 0o600
        if mode != wanted:
            out.append(f"{oct(mode)} {path}")
    return out


def import_setup(
    tmp_path: Path, worklist_server: WorklistServer, storage_server: StorageServer
) -> tuple[list[str], Path]:
    """The disc, our patient on the worklist, a config; return the import's arguments, config."""
    disc = tmp_path / "disc"
    write_disc(disc)
    worklist_server.add_patient(
        "MRN424242", "^".join(WORKLIST_NAME), PatientBirthDate="19700101", PatientSex="F"
    )
    cfg = write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist_server,
        destinations={"radiology": storage_server},
        spool=tmp_path / "spool",
        database=tmp_path / "store" / "kiosk.sqlite3",  # not there yet: the kiosk makes it
    )
    args = ["import", str(disc), "--all", "--mrn", "MRN424242", "--config", str(cfg), "-v"]
    return [*args, "--confirm-mismatch"], cfg  # the two names differ: neither may be logged


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_import_creates_files_private_to_the_kiosk_user(
    tmp_path: Path, worklist_server: WorklistServer, storage_server: StorageServer
) -> None:
    args, cfg = import_setup(tmp_path, worklist_server, storage_server)
    store, spool = tmp_path / "store", tmp_path / "spool"
    xdg = Path(os.environ["XDG_STATE_HOME"]).parent
    assert not xdg.exists()  # every folder under it is the kiosk's

    # Killed while sending: the database's -wal and -shm stay on the disk.
    died = kiosk(*args, fault="send.recorded")
    assert died.returncode == -signal.SIGKILL, died.stderr
    for name in ("kiosk.sqlite3", "kiosk.sqlite3-wal", "kiosk.sqlite3-shm"):
        assert (store / name).is_file(), name
    assert any(p.suffix == ".dcm" for p in created(spool))
    assert any(p.name == "kiosk.log" for p in created(xdg))
    assert loose(created(store, spool, xdg)) == []

    done = kiosk("send", "--config", str(cfg))
    assert done.returncode == 0, done.stderr
    assert len(storage_server.wait_for_files(3)) == 3
    assert loose(created(store, spool, xdg)) == []


def test_log_holds_no_patient_name(
    tmp_path: Path, worklist_server: WorklistServer, storage_server: StorageServer
) -> None:
    args, _ = import_setup(tmp_path, worklist_server, storage_server)
    run = kiosk(*args)
    assert run.returncode == 0, run.stderr
    assert len(storage_server.wait_for_files(3)) == 3
    [log] = [p for p in created(Path(os.environ["XDG_STATE_HOME"])) if p.name == "kiosk.log"]
    text = log.read_text(encoding="utf-8")
    for output in (text, run.stderr):
        for part in (*DISC_NAME, *WORKLIST_NAME):
            assert part not in output.upper()
    # The disc gave PatientName the VR CS; the coerced copy has the standard's PN (the
    # library warnings that could quote a name are withheld: the test below).
    assert "Invalid value for VR" not in text


def test_library_warnings_keep_where_they_come_from_not_their_text(tmp_path: Path) -> None:
    """pydicom's records and ``py.warnings`` lose their text in the log file, with ``-v`` too."""
    child = (
        "import warnings\n"
        "from kiosk import cli\n"
        "from pydicom.dataelem import DataElement\n"
        "cli._setup_logging(True)\n"
        "warnings.warn('a value: ZWEISTEIN^QUIRINUS')\n"
        "DataElement(0x00100010, 'CS', 'HOLZAPFEL^BARTHOLOMAEUS')\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, cwd=REPO, check=True
    )
    [log] = [p for p in created(Path(os.environ["XDG_STATE_HOME"])) if p.name == "kiosk.log"]
    text = log.read_text(encoding="utf-8")
    for output in (text, run.stderr):
        for part in (*DISC_NAME, *WORKLIST_NAME):
            assert part not in output
    assert "WARNING py.warnings: UserWarning from <string>:5; its text is withheld" in text
    assert "WARNING py.warnings: UserWarning from pydicom/valuerep.py:" in text
    assert "WARNING pydicom: warning from pydicom/misc.py:" in text


@dataclass
class Pki:
    """A CA, and a server certificate it signed for 127.0.0.1 and localhost."""

    ca: Path
    key: Path
    cert: Path


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    if not os.path.exists(OPENSSL):
        pytest.skip(f"{OPENSSL} is not installed (apt-get install openssl)")
    d = tmp_path / "pki"
    d.mkdir()

    def run(*args: str) -> None:
        subprocess.run([OPENSSL, *args], check=True, capture_output=True, cwd=d)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "2", "-subj", "/CN=Kiosk Test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=127.0.0.1")  # fmt: skip
    (d / "ext.cnf").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
    )
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf")  # fmt: skip
    return Pki(d / "ca.pem", d / "server.key", d / "server.pem")


def tls_config(tmp_path: Path, worklist: WorklistServer, pacs: StorageServer, ca: str) -> Path:
    path = write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist,
        destinations={"radiology": pacs},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    tls = "tls = true\n" + (f'tls_ca = "{ca}"\n' if ca else "")
    text = path.read_text().replace(
        "[destinations.radiology]\n", f"[destinations.radiology]\n{tls}"
    )
    path.write_text(text)
    return path


def test_untrusted_pacs_certificate_is_named_and_tls_ca_fixes_it(
    tmp_path: Path, pki: Pki, worklist_server: WorklistServer
) -> None:
    disc = tmp_path / "disc"
    write_ct_disc(disc, [("EXT-1", "DOE^JANE", "19700101", "F")], per_study=3)
    worklist_server.add_patient("MRN424242", "DOE^JANE", PatientBirthDate="19700101")
    tls = ["+tls", str(pki.key), str(pki.cert), "-ic"]
    with StorageServer(tmp_path / "tls", ae_title="TLSSCP", extra_args=tls) as pacs:
        untrusted = tls_config(tmp_path, worklist_server, pacs, ca="")

        # pynetdicom's path (C-ECHO): exit 4, one line that says what is wrong.
        echo = kiosk("echo", "--dest", "radiology", "--config", str(untrusted))
        assert echo.returncode == 4, echo.stderr
        [line] = echo.stderr.splitlines()
        assert "Radiology PACS's TLS certificate" in line and "is not trusted" in line
        assert "check tls_ca in the config" in line and "cannot reach" not in line

        # The C-STORE path (our SCU): the import keeps the study queued and says why.
        imported = kiosk(
            "import", str(disc), "--all", "--mrn", "MRN424242", "--config", str(untrusted)
        )
        assert imported.returncode == 6, imported.stderr
        assert "is not trusted" in imported.stderr and "cannot reach" not in imported.stderr
        queue = json.loads(kiosk("queue", "--config", str(untrusted), "--json").stdout)
        [down] = queue["destinations_down"]
        assert "is not trusted" in down["last_error"]
        assert pacs.received_files() == []

        trusted = tls_config(tmp_path, worklist_server, pacs, ca=str(pki.ca))
        echo = kiosk("echo", "--dest", "radiology", "--config", str(trusted))
        assert echo.returncode == 0, echo.stderr
        sent = kiosk("send", "--config", str(trusted), "--json")
        assert sent.returncode == 0, sent.stderr
        assert json.loads(sent.stdout)["sent"] == 3
        assert len(pacs.wait_for_files(3)) == 3


def test_store_connection_names_the_tls_failure(
    tmp_path: Path, pki: Pki, storage_server: StorageServer
) -> None:
    plan = ContextPlan([Context(CT, EXPLICIT_LE)], [CT])
    tls = ["+tls", str(pki.key), str(pki.cert), "-ic"]
    with StorageServer(tmp_path / "tls", ae_title="TLSSCP", extra_args=tls) as pacs:
        config = parse_config(
            {"destinations": {"radiology": {"ae_title": "TLSSCP", "host": "127.0.0.1",
                                            "port": pacs.port, "tls": True}}},
            tmp_path / "kiosk.toml",
        )  # fmt: skip
        with pytest.raises(PeerError) as caught:
            StoreConnection(config.destinations["radiology"], "KIOSK", plan)
        assert caught.value.exit_code == 4
        assert "Radiology's TLS certificate (TLSSCP at 127.0.0.1:" in str(caught.value)
        assert "is not trusted (unable to get local issuer certificate)" in str(caught.value)
    # A PACS that does not speak TLS on that port: the handshake fails, and says so.
    config = parse_config(
        {"destinations": {"plain": {"ae_title": "STORESCP", "host": "127.0.0.1",
                                    "port": storage_server.port, "tls": True}}},
        tmp_path / "kiosk.toml",
    )  # fmt: skip
    with pytest.raises(PeerError, match=r"TLS handshake with the Plain STORESCP at .* failed"):
        StoreConnection(config.destinations["plain"], "KIOSK", plan)


class TlsWorklist:
    """A pynetdicom Modality Worklist SCP over TLS, answering one order for any query."""

    def __init__(self, cert: Path, key: Path) -> None:
        from pynetdicom import AE, evt
        from pynetdicom.sop_class import ModalityWorklistInformationFind

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(cert), str(key))
        self.item = make_worklist_item(PatientID="MRN777", AccessionNumber="ACC777")
        self.ae_title = "TLSMWL"
        self.host = "127.0.0.1"
        self.port = free_port()
        ae = AE(ae_title=self.ae_title)
        ae.add_supported_context(ModalityWorklistInformationFind)
        self.server = ae.start_server(
            (self.host, self.port),
            block=False,
            ssl_context=context,
            evt_handlers=[(evt.EVT_C_FIND, self._find)],
        )

    def _find(self, event: object) -> Iterator[tuple[int, Dataset | None]]:
        yield 0xFF00, self.item

    def close(self) -> None:
        self.server.shutdown()


def test_worklist_over_tls(tmp_path: Path, pki: Pki) -> None:
    scp = TlsWorklist(pki.cert, pki.key)
    try:
        section = {"ae_title": scp.ae_title, "host": scp.host, "port": scp.port, "tls": True}
        config = parse_config({"worklist": section}, tmp_path / "kiosk.toml")
        assert config.worklist is not None and config.worklist.tls
        with pytest.raises(PeerError, match=r"the worklist's TLS certificate .* is not trusted"):
            find(config.worklist, "KIOSK", WorklistQuery(mrn="MRN777"))

        config = parse_config(
            {"worklist": {**section, "tls_ca": str(pki.ca)}}, tmp_path / "kiosk.toml"
        )
        [item] = find(config.worklist, "KIOSK", WorklistQuery(mrn="MRN777"))
        assert (item.mrn, item.accession_number) == ("MRN777", "ACC777")
    finally:
        scp.close()


def test_commitment_listener_takes_reports_from_the_destinations_only(tmp_path: Path) -> None:
    from pynetdicom import AE
    from pynetdicom.sop_class import StorageCommitmentPushModel

    from kiosk.send.commitment import ReportListener, listen_address

    config = parse_config(
        {
            "kiosk": {"listen_port": 11112},
            "destinations": {
                "radiology": {"ae_title": "RADPACS", "host": "127.0.0.1", "port": 104}
            },
        },
        tmp_path / "kiosk.toml",
    )
    dest = config.destinations["radiology"]
    # By default the listener is on the address that faces the PACS, not on every interface.
    assert config.listen_host == ""
    assert listen_address(config, [dest]) == "127.0.0.1"
    chosen = parse_config(
        {"kiosk": {"listen_host": "0.0.0.0"}}, tmp_path / "kiosk.toml"
    )  # fmt: skip
    assert listen_address(chosen, [dest]) == "0.0.0.0"

    port = free_port()
    listener = ReportListener("KIOSK", port, "127.0.0.1", calling_aets=[dest.ae_title])
    try:
        for calling, welcome in (("INTRUDER", False), ("RADPACS", True)):
            ae = AE(ae_title=calling)
            ae.add_requested_context(StorageCommitmentPushModel)
            assoc = ae.associate("127.0.0.1", port, ae_title="KIOSK")
            assert assoc.is_established is welcome, calling
            assert assoc.is_rejected is not welcome, calling
            if assoc.is_established:
                assoc.release()
    finally:
        listener.close()

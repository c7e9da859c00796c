"""Real DICOM peers for tests and benchmarks, started on free loopback ports.

* :class:`WorklistServer` -- DCMTK ``wlmscpfs`` over a folder of ``.wl`` files.
* :class:`StorageServer` -- DCMTK ``storescp``, either accepting every transfer
  syntax DCMTK knows or "picky" (uncompressed only).
* :class:`OrthancServer` -- ``Orthanc`` with a generated configuration, checked
  through its REST API (urllib only).

Every server is a context manager (``with StorageServer(dir) as scp: ...``) and
also has explicit :meth:`start` / :meth:`stop`. Servers that are running are
kept in a registry (:func:`running_peers`); :func:`stop_all_peers` runs at
interpreter exit so that an aborted run leaves no process behind.

DCMTK binaries are always called by absolute path (a virtualenv may hold
pynetdicom's own ``storescp``/``findscu`` scripts that shadow them), and always
with ``TCP_NODELAY=1`` in their environment (otherwise Nagle's algorithm adds
about 40 ms per DIMSE message on Linux).

Nothing here depends on pytest; ``tests/conftest.py`` wraps these classes in
fixtures and turns :class:`PeerUnavailable` into a skip.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from io import BytesIO
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Self, TypeVar

import psutil
from pydicom import dcmread
from pydicom.datadict import tag_for_keyword
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

__all__ = [
    "DCMTK_ENV",
    "DUMP2DCM",
    "ECHOSCU",
    "FINDSCU",
    "ORTHANC",
    "STORESCP",
    "STORESCU",
    "WLMSCPFS",
    "OrthancServer",
    "PeerError",
    "PeerUnavailable",
    "StorageServer",
    "WorklistServer",
    "dcmtk_env",
    "free_port",
    "make_worklist_item",
    "require_binary",
    "running_peers",
    "stop_all_peers",
    "wait_until",
]

LOOPBACK = "127.0.0.1"

# Absolute paths on purpose: see the module docstring.
WLMSCPFS = "/usr/bin/wlmscpfs"
STORESCP = "/usr/bin/storescp"
STORESCU = "/usr/bin/storescu"
FINDSCU = "/usr/bin/findscu"
ECHOSCU = "/usr/bin/echoscu"
DUMP2DCM = "/usr/bin/dump2dcm"
ORTHANC = "/usr/sbin/Orthanc"

# Debian/Ubuntu package providing each binary (named in skip reasons).
APT_PACKAGE: dict[str, str] = {
    WLMSCPFS: "dcmtk",
    STORESCP: "dcmtk",
    STORESCU: "dcmtk",
    FINDSCU: "dcmtk",
    ECHOSCU: "dcmtk",
    DUMP2DCM: "dcmtk",
    ORTHANC: "orthanc",
}

DCMTK_ENV: Mapping[str, str] = {"TCP_NODELAY": "1"}

_LOG_TAIL_CHARS = 4000
_T = TypeVar("_T")


class PeerError(RuntimeError):
    """A peer failed to start, died, or answered unexpectedly."""


class PeerUnavailable(PeerError):
    """The peer's binary is not installed (tests skip on this)."""


def require_binary(path: str) -> str:
    """Return ``path`` if it is an executable file, else raise :class:`PeerUnavailable`."""
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    package = APT_PACKAGE.get(path, "the package providing it")
    raise PeerUnavailable(f"{path} is not installed (apt-get install {package})")


def dcmtk_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for running a DCMTK tool: the current one plus ``TCP_NODELAY=1``."""
    env = dict(os.environ)
    env.update(DCMTK_ENV)
    if extra:
        env.update(extra)
    return env


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that was free on ``host`` a moment ago (bind to port 0, then close).

    Another process may take it before the caller binds it; the servers below
    retry with a fresh port when that happens.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(
    condition: Callable[[], _T | None],
    timeout: float,
    *,
    interval: float = 0.02,
    what: str = "condition",
) -> _T:
    """Poll ``condition`` until it returns something truthy; return that value.

    Raises :class:`TimeoutError` after ``timeout`` seconds. The poll interval
    starts small and doubles up to 0.2 s, so fast conditions return fast.
    """
    deadline = time.monotonic() + timeout
    delay = interval
    while True:
        value = condition()
        if value:
            return value
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"timed out after {timeout:.1f} s waiting for {what}")
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, 0.2)


# --------------------------------------------------------------------------
# Process management
# --------------------------------------------------------------------------

_registry_lock = threading.Lock()
_running: dict[int, ManagedServer] = {}


def running_peers() -> list[ManagedServer]:
    """Servers started through this module and not stopped yet."""
    with _registry_lock:
        return list(_running.values())


def stop_all_peers() -> list[ManagedServer]:
    """Stop every running server; return the ones that were still running."""
    leftovers = running_peers()
    for server in leftovers:
        with contextlib.suppress(Exception):
            server.stop()
    return leftovers


atexit.register(stop_all_peers)


def _listening_ports(pid: int) -> set[int]:
    """TCP ports on which process ``pid`` is listening (empty if it is gone)."""
    try:
        proc = psutil.Process(pid)
        # psutil >= 6 renamed connections() to net_connections().
        get_connections = getattr(proc, "net_connections", None) or proc.connections
        conns = get_connections(kind="tcp")
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        return set()
    return {c.laddr.port for c in conns if c.status == psutil.CONN_LISTEN and c.laddr}


class ManagedServer:
    """One external server process, its log file, and start/stop plumbing.

    Output (stdout and stderr) goes to ``self.log_path`` -- a file, never a
    pipe, so a chatty peer can never block on a full pipe and there is no pipe
    to leak. Subclasses provide :meth:`_command` and :meth:`_is_ready`.
    """

    binary: ClassVar[str]
    start_timeout: ClassVar[float] = 20.0
    stop_timeout: ClassVar[float] = 10.0
    # close() (and leaving the ``with`` block) stops gracefully unless False:
    # then it kills at once -- for peers whose data is thrown away anyway.
    graceful_close: ClassVar[bool] = True
    # Attempts with a fresh port when an automatically chosen port turns out
    # to be taken by the time the peer binds it.
    port_attempts: ClassVar[int] = 3

    def __init__(self, base_dir: Path | str | None, *, name: str) -> None:
        self.name = name
        self._own_tempdir: tempfile.TemporaryDirectory[str] | None = None
        if base_dir is None:
            self._own_tempdir = tempfile.TemporaryDirectory(prefix=f"{name}-")
            base_dir = self._own_tempdir.name
        self.base_dir = Path(base_dir)
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.base_dir / f"{name}.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self.start_seconds: float | None = None  # how long the last start() took

    # --- to be provided by subclasses ---------------------------------------
    def _command(self) -> list[str]:
        raise NotImplementedError

    def _env(self) -> dict[str, str] | None:
        return None

    def _is_ready(self) -> bool:
        raise NotImplementedError

    def _ports_are_fixed(self) -> bool:
        """True if the ports were given by the caller or used by a previous start."""
        return True

    def _pick_new_ports(self) -> None:
        """Choose fresh free ports after a failed start."""

    def _prepare(self) -> None:
        """Write whatever the process needs before it starts."""

    # --- public API ---------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, chars: int = _LOG_TAIL_CHARS) -> str:
        return self.log_text()[-chars:]

    def check_alive(self) -> None:
        """Raise :class:`PeerError` (with the peer's log) if the process has died."""
        if self._proc is None:
            raise PeerError(f"{self.name} is not started")
        code = self._proc.poll()
        if code is not None:
            raise PeerError(
                f"{self.name} exited with status {code}; log {self.log_path}:\n{self.log_tail()}"
            )

    def start(self) -> Self:
        """Start the process and wait until it accepts connections."""
        if self.running:
            raise PeerError(f"{self.name} is already running")
        require_binary(self.binary)
        began = time.monotonic()
        deadline = began + self.start_timeout
        attempts = 0
        while True:
            attempts += 1
            self._prepare()
            self._spawn()
            try:
                self._wait_ready(deadline)
            except PeerError:
                self._terminate()
                if time.monotonic() >= deadline:
                    raise
                if self._ports_are_fixed():
                    # e.g. a restart on the same port: the old socket may
                    # linger for a moment, so retry until the deadline.
                    time.sleep(0.05)
                elif attempts < self.port_attempts:
                    # The free port we picked was taken meanwhile: pick again.
                    self._pick_new_ports()
                else:
                    raise
                continue
            except BaseException:
                self._terminate()
                raise
            break
        self.start_seconds = time.monotonic() - began
        return self

    def stop(self, *, graceful: bool = True) -> None:
        """Stop the process: SIGTERM, then SIGKILL if it does not exit in time.

        ``graceful=False`` sends SIGKILL straight away (an abrupt outage).
        """
        self._terminate(graceful=graceful)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the process and remove the temporary directory if we made it."""
        self.stop(graceful=self.graceful_close)
        if self._own_tempdir is not None:
            self._own_tempdir.cleanup()
            self._own_tempdir = None

    def __repr__(self) -> str:
        state = f"pid {self.pid}" if self.running else "stopped"
        return f"<{type(self).__name__} {self.name} {state}>"

    # --- internals ----------------------------------------------------------
    def _spawn(self) -> None:
        command = self._command()
        with self.log_path.open("ab") as log:
            log.write(f"\n=== {time.strftime('%H:%M:%S')} {' '.join(command)}\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.base_dir,
                env=self._env(),
            )
        with _registry_lock:
            _running[id(self)] = self

    def _wait_ready(self, deadline: float) -> None:
        delay = 0.005
        while True:
            self.check_alive()
            if self._is_ready():
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PeerError(
                    f"{self.name} did not become ready within {self.start_timeout:.0f} s; "
                    f"log {self.log_path}:\n{self.log_tail()}"
                )
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, 0.1)

    def _terminate(self, *, graceful: bool = True) -> None:
        proc = self._proc
        if proc is not None:
            try:
                if proc.poll() is None:
                    if graceful:
                        proc.send_signal(signal.SIGTERM)
                        try:
                            proc.wait(timeout=self.stop_timeout)
                        except subprocess.TimeoutExpired:
                            proc.kill()
                    else:
                        proc.kill()
                proc.wait(timeout=self.stop_timeout)
            finally:
                self._proc = None
        with _registry_lock:
            _running.pop(id(self), None)


class _DicomServer(ManagedServer):
    """A DCMTK server listening on one port given on its command line."""

    def __init__(
        self, base_dir: Path | str | None, *, name: str, ae_title: str, port: int | None
    ) -> None:
        super().__init__(base_dir, name=name)
        if not 0 < len(ae_title) <= 16:
            raise ValueError(f"AE title must be 1..16 characters: {ae_title!r}")
        self.ae_title = ae_title
        self.host = LOOPBACK
        self._fixed_port = port is not None
        self.port: int = port if port is not None else free_port()

    def _env(self) -> dict[str, str]:
        return dcmtk_env()

    def _is_ready(self) -> bool:
        assert self._proc is not None
        return self.port in _listening_ports(self._proc.pid)

    def _ports_are_fixed(self) -> bool:
        return self._fixed_port

    def _pick_new_ports(self) -> None:
        self.port = free_port()

    def start(self) -> Self:
        super().start()
        # From now on restarts must keep the same port (clients know it).
        self._fixed_port = True
        return self

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)


# --------------------------------------------------------------------------
# Modality worklist: DCMTK wlmscpfs
# --------------------------------------------------------------------------

# Attributes that live inside the Scheduled Procedure Step Sequence item.
_SPS_KEYWORDS = frozenset(
    {
        "Modality",
        "ScheduledStationAETitle",
        "ScheduledStationName",
        "ScheduledProcedureStepStartDate",
        "ScheduledProcedureStepStartTime",
        "ScheduledProcedureStepEndDate",
        "ScheduledProcedureStepEndTime",
        "ScheduledPerformingPhysicianName",
        "ScheduledProcedureStepDescription",
        "ScheduledProtocolCodeSequence",
        "ScheduledProcedureStepID",
        "ScheduledProcedureStepStatus",
        "ScheduledProcedureStepLocation",
        "PreMedication",
        "RequestedContrastAgent",
        "CommentsOnTheScheduledProcedureStep",
    }
)

_item_counter = itertools.count(1)

# The SOP Class of the Modality Worklist query model; used in the file meta of
# .wl files (wlmscpfs ignores it, but a file meta needs some SOP class).
_MWL_FIND_SOP_CLASS = UID("1.2.840.10008.5.1.4.31")


def make_worklist_item(**fields: Any) -> Dataset:
    """Build a complete Modality Worklist item.

    Keyword arguments are DICOM keywords. Keywords of the Scheduled Procedure
    Step (``Modality``, ``ScheduledStationAETitle``,
    ``ScheduledProcedureStepStartDate`` ...) go into the single item of
    ``ScheduledProcedureStepSequence``; all others go at the top level. A value
    of ``None`` removes the attribute (to build deliberately incomplete items).
    Unset attributes get defaults; identifiers (PatientID, AccessionNumber,
    RequestedProcedureID, ScheduledProcedureStepID, StudyInstanceUID) are
    unique per call. ``SpecificCharacterSet`` defaults to ``ISO_IR 100``
    (Latin-1), so names such as ``"Müller^Jürgen"`` work as is.
    """
    n = next(_item_counter)
    today = dt.date.today().strftime("%Y%m%d")
    top: dict[str, Any] = {
        "SpecificCharacterSet": "ISO_IR 100",
        "AccessionNumber": f"ACC{n:06d}",
        "ReferringPhysicianName": "",
        "PatientName": "DOE^JANE",
        "PatientID": f"PID{n:06d}",
        "IssuerOfPatientID": "HOSPITAL",
        "PatientBirthDate": "19700101",
        "PatientSex": "F",
        "StudyInstanceUID": generate_uid(),
        "RequestedProcedureID": f"RP{n:06d}",
        "RequestedProcedureDescription": "OUTSIDE MEDIA IMPORT",
        "ReferencedStudySequence": [],
        "ReferencedPatientSequence": [],
    }
    sps: dict[str, Any] = {
        "Modality": "OT",
        "ScheduledStationAETitle": "KIOSK",
        "ScheduledProcedureStepStartDate": today,
        "ScheduledProcedureStepStartTime": "080000",
        "ScheduledPerformingPhysicianName": "",
        "ScheduledProcedureStepDescription": "OUTSIDE MEDIA IMPORT",
        "ScheduledProcedureStepID": f"SPS{n:06d}",
        "ScheduledProcedureStepLocation": "FRONT DESK",
    }
    sps_given = fields.pop("ScheduledProcedureStepSequence", None)
    for keyword, value in fields.items():
        if tag_for_keyword(keyword) is None:
            raise ValueError(f"unknown DICOM keyword: {keyword}")
        (sps if keyword in _SPS_KEYWORDS else top)[keyword] = value

    ds = Dataset()
    for keyword, value in top.items():
        if value is not None:
            setattr(ds, keyword, value)
    if sps_given is not None:
        ds.ScheduledProcedureStepSequence = sps_given
    else:
        item = Dataset()
        for keyword, value in sps.items():
            if value is not None:
                setattr(item, keyword, value)
        ds.ScheduledProcedureStepSequence = [item]
    return ds


class WorklistServer(_DicomServer):
    """DCMTK ``wlmscpfs`` serving the ``.wl`` files in ``worklist_dir``.

    ``worklist_dir`` is ``<base_dir>/worklists/<ae_title>/`` (with the
    ``lockfile`` wlmscpfs needs); ``-dfp`` points at its parent, and wlmscpfs
    picks the sub-folder named after the *called* AE title, so clients must
    call ``ae_title`` (other called titles are refused).

    ``reject_incomplete=False`` passes ``-dfr`` (serve items even if a type 1
    attribute is missing, as lenient brokers do); ``True`` passes ``-efr``.
    Character set: ``-csk`` returns the Specific Character Set stored in each
    file, so Latin-1 items come back as ``ISO_IR 100``. By default the server
    runs in single-process mode (``-s``): no forked children to clean up, one
    association at a time. ``fork=True`` gives DCMTK's default (a child per
    association; :meth:`stop` signals only the parent).
    """

    binary = WLMSCPFS

    def __init__(
        self,
        base_dir: Path | str | None = None,
        *,
        ae_title: str = "WLMTEST",
        port: int | None = None,
        reject_incomplete: bool = False,
        fork: bool = False,
        extra_args: Sequence[str] = (),
    ) -> None:
        super().__init__(base_dir, name="wlmscpfs", ae_title=ae_title, port=port)
        self.data_dir = self.base_dir / "worklists"
        self.worklist_dir = self.data_dir / ae_title
        self.worklist_dir.mkdir(parents=True, exist_ok=True)
        (self.worklist_dir / "lockfile").touch()
        self.reject_incomplete = reject_incomplete
        self.fork = fork
        self.extra_args = list(extra_args)
        self._file_counter = itertools.count(1)

    def _command(self) -> list[str]:
        return [
            WLMSCPFS,
            "-dhl",
            "--fork" if self.fork else "-s",
            "-efr" if self.reject_incomplete else "-dfr",
            "-csk",
            "-dfp",
            str(self.data_dir),
            *self.extra_args,
            str(self.port),
        ]

    def add_item(self, dataset: Dataset | None = None, /, **fields: Any) -> Path:
        """Write one ``.wl`` file; return its path.

        Either pass a ready :class:`~pydicom.dataset.Dataset` or keyword fields
        for :func:`make_worklist_item`. The file is written with a DICOM file
        meta header (what ``dump2dcm`` produces) under a temporary name and
        then renamed, so the server never reads a half-written item. The
        server reads the folder on every query: items added while it runs are
        visible to the next C-FIND.
        """
        if dataset is not None and fields:
            raise TypeError("pass either a dataset or keyword fields, not both")
        ds = dataset if dataset is not None else make_worklist_item(**fields)
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = _MWL_FIND_SOP_CLASS
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta = meta
        stem = f"item{next(self._file_counter):04d}"
        tmp = self.worklist_dir / f".{stem}.tmp"
        final = self.worklist_dir / f"{stem}.wl"
        ds.save_as(tmp, enforce_file_format=True)
        os.replace(tmp, final)
        return final

    def add_patient(self, mrn: str, name: str = "DOE^JANE", **fields: Any) -> Path:
        """An order of ``mrn`` (not the disc study's): the worklist then confirms the MRN.

        Birth date and sex stay empty unless given, so they contradict no disc.
        """
        fields = {"PatientBirthDate": "", "PatientSex": "", **fields}
        return self.add_item(
            PatientID=mrn, PatientName=name, AccessionNumber=f"ACC-{mrn}", **fields
        )

    def items(self) -> list[Path]:
        return sorted(self.worklist_dir.glob("*.wl"))

    def remove_item(self, path: Path) -> None:
        path.unlink()

    def clear(self) -> None:
        for path in self.items():
            path.unlink()


# --------------------------------------------------------------------------
# Storage SCP: DCMTK storescp
# --------------------------------------------------------------------------


class StorageServer(_DicomServer):
    """DCMTK ``storescp`` writing what it receives to ``output_dir``.

    ``accept_all=True`` passes ``+xa`` (every transfer syntax DCMTK supports,
    including JPEG, JPEG 2000, JPEG-LS and RLE). ``accept_all=False`` is the
    "picky" PACS: storescp's default ``+x=`` accepts only the uncompressed
    syntaxes (explicit VR little/big endian, implicit VR little endian) and
    refuses the presentation context for anything compressed.

    Files are named by storescp's default scheme (``-uf``): modality prefix
    plus SOP Instance UID, e.g. ``CT.1.2.3...``; ``sort_by_study=True`` adds
    ``-su`` to put each study in its own sub-folder. storescp does not check
    the called AE title; ``ae_title`` is the title it answers with.

    :meth:`stop` then :meth:`start` restarts on the same port and keeps the
    received files (for outage tests).
    """

    binary = STORESCP

    def __init__(
        self,
        base_dir: Path | str | None = None,
        *,
        ae_title: str = "STORESCP",
        port: int | None = None,
        accept_all: bool = True,
        sort_by_study: bool = False,
        promiscuous: bool = False,
        extra_args: Sequence[str] = (),
    ) -> None:
        name = "storescp" if accept_all else "storescp-picky"
        super().__init__(base_dir, name=name, ae_title=ae_title, port=port)
        self.output_dir = self.base_dir / "received"
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.accept_all = accept_all
        self.sort_by_study = sort_by_study
        self.promiscuous = promiscuous
        self.extra_args = list(extra_args)

    def _command(self) -> list[str]:
        command = [STORESCP, "-dhl", "-aet", self.ae_title, "-od", str(self.output_dir)]
        if self.accept_all:
            command.append("+xa")
        if self.sort_by_study:
            command += ["-su", "study"]
        if self.promiscuous:
            command.append("-pm")
        command += [*self.extra_args, str(self.port)]
        return command

    def received_files(self) -> list[Path]:
        """Files written so far (recursively; sorted by path)."""
        return sorted(
            p for p in self.output_dir.rglob("*") if p.is_file() and not p.name.startswith(".")
        )

    def received_datasets(self) -> list[Dataset]:
        """The received files, read with pydicom (pixel data skipped)."""
        return [dcmread(p, stop_before_pixels=True) for p in self.received_files()]

    def received_sop_instance_uids(self) -> set[str]:
        return {str(ds.SOPInstanceUID) for ds in self.received_datasets()}

    def wait_for_files(self, count: int, timeout: float = 10.0) -> list[Path]:
        """Wait until at least ``count`` files have been received."""

        def enough() -> list[Path] | None:
            files = self.received_files()
            return files if len(files) >= count else None

        return wait_until(enough, timeout, what=f"{count} file(s) in {self.output_dir}")

    def clear(self) -> None:
        """Delete everything received so far."""
        shutil.rmtree(self.output_dir)
        self.output_dir.mkdir()


# --------------------------------------------------------------------------
# Orthanc
# --------------------------------------------------------------------------

# urllib honours http_proxy/HTTP_PROXY; requests to a loopback Orthanc must not
# go through a proxy, so use an opener without any proxy handler.
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class OrthancServer(ManagedServer):
    """``Orthanc`` with its own storage, index and loopback ports.

    The generated configuration loads no plugins (``"Plugins": []``; the
    Debian package only loads ``/usr/share/orthanc/plugins`` when a
    configuration says so, e.g. ``/etc/orthanc/orthanc.json``), disables HTTP
    remote access and authentication, and declares the kiosk as DICOM
    modality ``KIOSK`` (AE ``kiosk_aet`` at 127.0.0.1:``kiosk_port``): Orthanc
    only accepts a storage commitment request (N-ACTION) from a declared
    modality, and sends the N-EVENT-REPORT on a new association to that
    modality's host and port. ``kiosk_port`` defaults to a free port chosen
    now; change it at run time with :meth:`set_modality`.

    ``extra_config`` entries override the generated ones.
    """

    binary = ORTHANC
    start_timeout = 30.0
    stop_timeout = 15.0
    # A graceful Orthanc shutdown takes ~3.5 s (the embedded HTTP and DICOM
    # servers wind down on 1-2 s polls). close() is used on throw-away
    # instances, so it kills at once; call stop() for a graceful shutdown.
    graceful_close = False

    def __init__(
        self,
        base_dir: Path | str | None = None,
        *,
        aet: str = "ORTHANC",
        dicom_port: int | None = None,
        http_port: int | None = None,
        kiosk_aet: str = "KIOSK",
        kiosk_port: int | None = None,
        extra_modalities: Mapping[str, Mapping[str, Any]] | None = None,
        extra_config: Mapping[str, Any] | None = None,
        verbose: bool = False,
    ) -> None:
        super().__init__(base_dir, name="orthanc")
        self.aet = aet
        self.ae_title = aet
        self.host = LOOPBACK
        self._fixed_ports = dicom_port is not None or http_port is not None
        self.port: int = dicom_port if dicom_port is not None else free_port()
        self.http_port: int = http_port if http_port is not None else free_port()
        self.kiosk_aet = kiosk_aet
        self.kiosk_port: int = kiosk_port if kiosk_port is not None else free_port()
        self.extra_modalities = dict(extra_modalities or {})
        self.extra_config = dict(extra_config or {})
        self.verbose = verbose
        self.storage_dir = self.base_dir / "storage"
        self.config_path = self.base_dir / "orthanc.json"

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.http_port}"

    def config(self) -> dict[str, Any]:
        """The configuration written to ``config_path`` at start."""
        modalities: dict[str, Any] = {
            "KIOSK": {
                "AET": self.kiosk_aet,
                "Host": LOOPBACK,
                "Port": self.kiosk_port,
                "AllowStorageCommitment": True,
            },
            **self.extra_modalities,
        }
        config: dict[str, Any] = {
            "Name": f"test-orthanc-{self.port}",
            "StorageDirectory": str(self.storage_dir),
            "IndexDirectory": str(self.storage_dir),
            "TemporaryDirectory": str(self.base_dir / "tmp"),
            "Plugins": [],
            "LuaScripts": [],
            "HttpServerEnabled": True,
            "HttpPort": self.http_port,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "OrthancExplorerEnabled": False,
            "WebDavEnabled": False,
            "HttpThreadsCount": 8,
            "DicomServerEnabled": True,
            "DicomAet": self.aet,
            "DicomPort": self.port,
            "DicomCheckCalledAet": False,
            "DicomAlwaysAllowEcho": True,
            "DicomAlwaysAllowStore": True,
            "DicomModalities": modalities,
            "DicomModalitiesInDatabase": False,
            "DicomThreadsCount": 4,
            "DicomScuTimeout": 10,
            "DicomAssociationCloseDelay": 0,
            "ConcurrentJobs": 2,
            "SaveJobs": False,
            "StorageCompression": False,
            "SyncStorageArea": False,
            "DeidentifyLogs": False,
            "MetricsEnabled": False,
        }
        config.update(self.extra_config)
        return config

    def _prepare(self) -> None:
        (self.base_dir / "tmp").mkdir(exist_ok=True)
        self.config_path.write_text(json.dumps(self.config(), indent=2), encoding="utf-8")

    def _command(self) -> list[str]:
        command = [ORTHANC]
        if self.verbose:
            command.append("--verbose")
        command.append(str(self.config_path))
        return command

    def _is_ready(self) -> bool:
        assert self._proc is not None
        # The REST API comes up last, but check DICOM too to be sure.
        if self.port not in _listening_ports(self._proc.pid):
            return False
        try:
            system = self.get_json("/system", timeout=2.0)
        except (OSError, PeerError):
            return False
        return isinstance(system, dict) and system.get("DicomPort") == self.port

    def _ports_are_fixed(self) -> bool:
        return self._fixed_ports

    def _pick_new_ports(self) -> None:
        self.port = free_port()
        self.http_port = free_port()

    def start(self) -> Self:
        super().start()
        self._fixed_ports = True
        return self

    # --- REST helpers (urllib only) ----------------------------------------
    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        content_type: str = "application/json",
        timeout: float = 30.0,
    ) -> bytes:
        """One REST call; returns the response body. Raises :class:`PeerError` on HTTP errors."""
        req = urllib.request.Request(self.url + path, data=body, method=method)
        if body is not None:
            req.add_header("Content-Type", content_type)
        try:
            with _http.open(req, timeout=timeout) as response:
                data: bytes = response.read()
                return data
        except urllib.error.HTTPError as err:
            with err:
                detail = err.read().decode("utf-8", errors="replace")
            raise PeerError(f"Orthanc {method} {path} -> HTTP {err.code}: {detail}") from None

    def upload(self, datasets: list[Dataset]) -> list[Dataset]:
        """Store data sets through the REST API (``POST /instances``); return them."""
        for ds in datasets:
            buffer = BytesIO()
            ds.save_as(buffer, enforce_file_format=True)
            self.request("POST", "/instances", buffer.getvalue(), content_type="application/dicom")
        return datasets

    def get_json(self, path: str, *, timeout: float = 30.0) -> Any:
        return json.loads(self.request("GET", path, timeout=timeout))

    def post_json(self, path: str, payload: Any) -> Any:
        answer = self.request("POST", path, json.dumps(payload).encode())
        return json.loads(answer) if answer else None

    def put_json(self, path: str, payload: Any) -> Any:
        answer = self.request("PUT", path, json.dumps(payload).encode())
        return json.loads(answer) if answer.strip() else None

    def delete(self, path: str) -> None:
        self.request("DELETE", path)

    def system(self) -> dict[str, Any]:
        result: dict[str, Any] = self.get_json("/system")
        return result

    def instances(self) -> list[str]:
        """Orthanc identifiers of every stored instance."""
        result: list[str] = self.get_json("/instances")
        return result

    def studies(self) -> list[str]:
        result: list[str] = self.get_json("/studies")
        return result

    def study_count(self) -> int:
        return len(self.studies())

    def instance_tags(self, instance_id: str) -> dict[str, Any]:
        """``/instances/{id}/simplified-tags``: keyword -> value (sequences as lists)."""
        result: dict[str, Any] = self.get_json(f"/instances/{instance_id}/simplified-tags")
        return result

    def instance_file(self, instance_id: str) -> bytes:
        """The stored DICOM file, byte for byte."""
        return self.request("GET", f"/instances/{instance_id}/file")

    def find_instance(self, sop_instance_uid: str) -> str | None:
        """Orthanc identifier of the instance with this SOP Instance UID, if stored."""
        answer = self.request(
            "POST", "/tools/lookup", sop_instance_uid.encode("ascii"), content_type="text/plain"
        )
        hits: list[dict[str, Any]] = json.loads(answer)
        found = [hit["ID"] for hit in hits if hit.get("Type") == "Instance"]
        return found[0] if found else None

    def wait_for_instances(self, count: int, timeout: float = 10.0) -> list[str]:
        def enough() -> list[str] | None:
            ids = self.instances()
            return ids if len(ids) >= count else None

        return wait_until(enough, timeout, what=f"{count} instance(s) in Orthanc")

    def set_modality(
        self, name: str, aet: str, port: int, host: str = LOOPBACK, **options: Any
    ) -> None:
        """Declare or change a DICOM modality at run time (``PUT /modalities/{name}``)."""
        self.put_json(f"/modalities/{name}", {"AET": aet, "Host": host, "Port": port, **options})
        if name == "KIOSK":
            self.kiosk_aet, self.kiosk_port = aet, port

    def modalities(self) -> dict[str, Any]:
        result: dict[str, Any] = self.get_json("/modalities?expand")
        return result

    def reset(self) -> None:
        """Delete every stored resource (for reuse across tests)."""
        for patient in self.get_json("/patients"):
            self.delete(f"/patients/{patient}")

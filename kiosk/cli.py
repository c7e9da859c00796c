"""The ``kiosk`` command line: argparse → services → JSON or text, with ``CLI.md`` exit codes."""

from __future__ import annotations

import argparse
import json
import logging
import logging.handlers
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk import paths
from kiosk.config import load_config
from kiosk.errors import KioskError, PartialError, PeerError, SafetyError, UsageError
from kiosk.tags import TAGS

if TYPE_CHECKING:
    from kiosk.importer import ImportOutcome

# The use cases (kiosk.app) are imported inside the commands that use them: a command
# then starts without loading pydicom, numpy and the rest when it does not need them.

log = logging.getLogger("kiosk")

#: The roles of ``kiosk users add --role`` (:class:`kiosk.access.Role`).
ROLES = ("front-desk", "physician", "back-office", "admin")

#: Commands that read or change the kiosk's records: they run as a signed-in user once
#: a user exists (``docs/CLI.md``).
SIGNED_IN = {"import", "queue", "send", "reconcile", "discard", "clean-spool", "audit",
             "users", "export", "tag", "second-reads"}  # fmt: skip


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, exit 2, no usage dump
        self.exit(2, f"kiosk: {message} (see 'kiosk --help')\n")


def _common(parser: argparse.ArgumentParser, top: bool) -> None:
    default: Any = None if top else argparse.SUPPRESS
    parser.add_argument("--config", type=Path, default=default, help="TOML config file")
    parser.add_argument(
        "--json",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="machine-readable output on stdout",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="log progress to stderr",
    )
    parser.add_argument(
        "--user",
        default="" if top else argparse.SUPPRESS,
        metavar="NAME",
        help="sign in as NAME (else $KIOSK_USER; password $KIOSK_PASSWORD, else a prompt); "
        "on an open station: who acted",
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``kiosk`` command."""
    parser = _Parser(prog="kiosk", description="Import outside DICOM media into the PACS.")
    _common(parser, top=True)
    parser.add_argument("--demo", action="store_true", help="open the app on the embedded demo")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    p = sub.add_parser("scan", help="list what a disc, folder or image holds")
    p.add_argument("path", type=Path)
    p.add_argument(
        "--quick",
        action="store_true",
        help="trust the DICOMDIR for the tree; read the files' headers only on import",
    )
    _common(p, top=False)

    p = sub.add_parser("watch", help="print a line each time a disc or drive comes or goes")
    p.add_argument("--drop-folder", type=Path, default=None, help="also watch this folder")
    p.add_argument("--interval", type=float, default=0.0, help="seconds between looks")
    p.add_argument("--count", type=int, default=0, help="stop after this many events")
    p.add_argument("--timeout", type=float, default=0.0, help="stop after this many seconds")
    _common(p, top=False)

    p = sub.add_parser("worklist", help="query the Modality Worklist")
    for flag in ("mrn", "accession", "name", "dob", "date", "modality", "department"):
        p.add_argument(f"--{flag}", default="")
    _common(p, top=False)

    p = sub.add_parser("match", help="rank the worklist candidates of every study on a disc")
    p.add_argument("path", type=Path)
    _common(p, top=False)

    p = sub.add_parser("import", help="spool, coerce, queue and send studies")
    p.add_argument("path", type=Path)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--study", action="append", default=[], metavar="UID")
    which.add_argument("--all", action="store_true")
    p.add_argument(
        "--patient",
        default=None,
        metavar="OUTSIDE_ID",
        help="the disc's PatientID whose studies are meant (a Study UID under two patients)",
    )
    p.add_argument("--mrn", required=True)
    p.add_argument("--accession", default="")
    p.add_argument("--dest", default="")
    p.add_argument("--tag", choices=TAGS, default="")
    p.add_argument("--reason", default="", help="why the tag (with --tag)")
    p.add_argument(
        "--requested-by", default="", metavar="NAME", help="the physician who asked for the tag"
    )
    p.add_argument(
        "--confirm-mismatch",
        action="store_true",
        help="import although the disc's birth date or sex differs from the worklist",
    )
    p.add_argument("--no-send", action="store_true", help="queue only; 'kiosk send' delivers")
    p.add_argument(
        "--missing-only",
        action="store_true",
        help="ask the destination first and do not resend instances it already holds",
    )
    p.add_argument(
        "--report",
        action="append",
        default=[],
        metavar="PATH",
        help="a PDF or JPEG report on the disc (as 'scan' lists it) to wrap into DICOM and "
        "send with the one chosen study (repeatable)",
    )
    _common(p, top=False)

    p = sub.add_parser("queue", help="show the outbox and the back-office queue")
    p.add_argument("--dest", default="")
    p.add_argument("--state", default="")
    _common(p, top=False)

    p = sub.add_parser("send", help="deliver what is queued")
    p.add_argument("--dest", default="")
    p.add_argument("--retry", action="store_true", help="also resend failed instances")
    p.add_argument(
        "--due-only",
        action="store_true",
        help="leave instances whose retry time has not come (for scheduled runs)",
    )
    _common(p, top=False)

    p = sub.add_parser("echo", help="test the connection to a destination (C-ECHO)")
    p.add_argument("--dest", required=True)
    _common(p, top=False)

    p = sub.add_parser("reconcile", help="back office: attach an order to a stored study")
    p.add_argument("study_uid", metavar="STUDY_UID")
    p.add_argument("--accession", required=True)
    p.add_argument("--mrn", default="")
    p.add_argument(
        "--issuer",
        default=None,
        help='the order\'s issuer of patient ID ("" for none), to move a study to another '
        "patient with the same MRN",
    )
    p.add_argument(
        "--confirm-mismatch",
        action="store_true",
        help="attach although the disc's birth date or sex differs from the order's patient",
    )
    p.add_argument("--no-send", action="store_true", help="queue only; 'kiosk send' delivers")
    _common(p, top=False)

    p = sub.add_parser("discard", help="back office: discard a study (never sent), with a reason")
    p.add_argument("study_uid", metavar="STUDY_UID")
    p.add_argument("--reason", required=True)
    _common(p, top=False)

    p = sub.add_parser("clean-spool", help="remove committed studies' copies after retention")
    p.add_argument("--days", type=int, default=None, help="retention (default: the config's)")
    _common(p, top=False)

    p = sub.add_parser("tag", help="physician: tag an imported study, with who asked and why")
    p.add_argument("study_uid", metavar="STUDY_UID")
    p.add_argument("tag", choices=(*TAGS, "none"), help="'none' takes the tag off")
    p.add_argument("--reason", required=True)
    p.add_argument("--requested-by", default="", metavar="NAME")
    _common(p, top=False)

    p = sub.add_parser("second-reads", help="second reads for billing: list, CSV, HL7, send")
    p.add_argument("--since", default="", metavar="DATE", help="requested on or after (YYYY-MM-DD)")
    p.add_argument("--format", choices=("csv", "hl7"), default=None)
    p.add_argument("--send", action="store_true", help="deliver the HL7 messages to [hl7]")
    p.add_argument("--retry", action="store_true", help="with --send: also what was refused (AE)")
    p.add_argument(
        "--due-only",
        action="store_true",
        help="with --send: leave messages whose retry time has not come (scheduled runs)",
    )
    p.add_argument(
        "--set-state",
        nargs=2,
        metavar=("ID", "STATE"),
        default=None,
        help="back office: move a second read to 'ordered', 'read', 'billed' or 'cancelled'",
    )
    p.add_argument("--accession", default="", help="with --set-state: the order's accession")
    _common(p, top=False)

    p = sub.add_parser("render", help="render one frame of a DICOM file to a PNG, as the viewer")
    p.add_argument("file", type=Path)
    p.add_argument("--frame", type=int, default=1, help="1-based frame number (default 1)")
    p.add_argument("--window", default=None, metavar="CENTER,WIDTH", help="VOI window")
    p.add_argument("--out", type=Path, required=True, help="the PNG to write")
    _common(p, top=False)

    p = sub.add_parser("audit", help="show, verify or export the audit trail")
    p.add_argument("--since", default="", metavar="DATE")
    p.add_argument("--verify", action="store_true", help="check the hash chain (exit 5: broken)")
    p.add_argument(
        "--send", action="store_true", help="send what is queued to the ATNA collector ([audit])"
    )
    _common(p, top=False)

    p = sub.add_parser("users", help="admin: the users who may sign in, and their roles")
    users = p.add_subparsers(
        dest="users_command",
        metavar="add|list|role|disable|enable",
        parser_class=_Parser,
        required=True,
    )
    q = users.add_parser("add", help="add a user; the password is read from standard input")
    q.add_argument("name", metavar="NAME")
    q.add_argument("--role", required=True, choices=ROLES)
    _common(q, top=False)
    q = users.add_parser("list", help="list the users and their roles")
    _common(q, top=False)
    q = users.add_parser("role", help="give a user another role")
    q.add_argument("name", metavar="NAME")
    q.add_argument("--role", required=True, choices=ROLES)
    _common(q, top=False)
    for command, what in (("disable", "disable a user: no sign-in, no action any more"),
                          ("enable", "enable a disabled user again")):  # fmt: skip
        q = users.add_parser(command, help=what)
        q.add_argument("name", metavar="NAME")
        _common(q, top=False)
    _common(p, top=False)

    p = sub.add_parser("export", help="write a de-identified copy of a study (PS3.15 E.1)")
    p.add_argument("--deidentify", required=True, metavar="STUDY_UID")
    p.add_argument("--out", required=True, type=Path, metavar="DIR")
    _common(p, top=False)
    return parser


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is now (tests swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


_handlers: list[logging.Handler] = []


def _one_line(text: str) -> str:
    """Return ``text`` as one safe terminal line.

    Messages quote values from the disc (names, paths, UIDs) that may hold
    newlines or terminal escape sequences. Every character that is not
    printable (control characters such as newline and ESC, Unicode line
    separators, bidi overrides, lone surrogates) is written as its Python
    escape (``\\n``, ``\\x1b``, ``\\u202e``); other blanks become a plain
    space; the ends are stripped. A message is then always one line and
    shows what the value really holds. The escaping is
    :func:`kiosk.media.names.shown`, the one used wherever a name from a disc
    is shown (a byte of a file name that is not UTF-8 is written ``\\xNN``).
    """
    from kiosk.media.names import shown

    return shown(text.strip())


class _TerminalFormatter(logging.Formatter):
    """``kiosk: message`` on one line; never a traceback (those go to the log file)."""

    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not become a traceback on the terminal
            message = str(record.msg)
        return "kiosk: " + _one_line(message)


def _not_file_only(record: logging.LogRecord) -> bool:
    """Filter of the stderr handler: records logged with ``file_only`` stay off the terminal."""
    return not getattr(record, "file_only", False)


_WARNING_TEXT = re.compile(r"(?P<file>.*?):(?P<line>\d+): (?P<category>[A-Za-z_][\w.]*): ", re.S)


def _withhold_library_text(record: logging.LogRecord) -> bool:
    """Filter of both handlers: pydicom's records and library warnings say where, not what.

    Why: pydicom's messages and warnings (``py.warnings``, routed to logging
    by :func:`_setup_logging`) quote the value they complain about ("Invalid
    value for VR CS: 'DOE^JANE'", a worklist name coerced into an element a
    disc gave the wrong VR), and such values are patient data. The log file
    is kept for months, read by support staff and pasted into tickets, and
    the stderr of a scheduled ``kiosk send`` goes to the system journal: no
    patient name may reach either. Dropping those records would hide that a
    disc had problems, so they keep their time, level and logger and name
    the warning's category and the library code that spoke (file and line,
    enough to find the cause with the disc at hand), never their text or
    traceback. The kiosk's own messages name studies by UID and internal id.
    """
    name = record.name
    if name != "py.warnings" and name != "pydicom" and not name.startswith("pydicom."):
        return True
    if getattr(record, "withheld", False):  # the other handler got it first
        return True
    if name == "py.warnings":
        # The text formatwarning() made: the message, or its only argument (before 3.11).
        args = record.args if isinstance(record.args, tuple) else ()
        text = str(args[0]) if args else str(record.msg)
        found = _WARNING_TEXT.match(text)
        if found is None:
            message = "a library warning"
        else:
            where = "/".join(Path(found["file"]).parts[-2:])
            message = f"{found['category']} from {where}:{found['line']}"
    else:
        where = "/".join(Path(record.pathname).parts[-2:])
        message = f"{record.levelname.lower()} from {where}:{record.lineno} ({record.funcName})"
    record.msg = message + "; its text is withheld (it may quote patient data)"
    record.args = ()
    record.exc_info = record.exc_text = record.stack_info = None
    record.__dict__["withheld"] = True
    return True


class _LogFile(logging.handlers.RotatingFileHandler):
    """The log file; a failure to write it (its disk full) prints nothing on the terminal."""

    def handleError(self, record: logging.LogRecord) -> None:
        pass


def _setup_logging(verbose: bool) -> None:
    """Log to stderr and to the log file ``paths.log_dir()/kiosk.log``.

    stderr gets our loggers only, warnings and up (everything from INFO with
    ``-v``), one line each, without tracebacks; the file gets everything,
    tracebacks included. When the log file cannot be opened the kiosk runs
    without it (and a failure says so instead of pointing at it).
    """
    root = logging.getLogger()
    for handler in _handlers:
        root.removeHandler(handler)
        handler.close()
    _handlers.clear()
    root.setLevel(logging.INFO)
    # A library's warnings (pydicom on a hostile value) go to the log like the rest, not
    # raw to the terminal: stderr shows them only with -v, prefixed and on one line.
    logging.captureWarnings(True)
    stderr = _StderrHandler()
    stderr.setLevel(logging.INFO if verbose else logging.WARNING)
    stderr.setFormatter(_TerminalFormatter())
    stderr.addFilter(_not_file_only)
    stderr.addFilter(_withhold_library_text)
    if not verbose:
        stderr.addFilter(logging.Filter("kiosk"))
    _handlers.append(stderr)
    root.addHandler(stderr)
    try:
        folder = paths.log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        logfile = _LogFile(  # a disc's name that is not UTF-8 is logged, never a failure
            folder / "kiosk.log",
            maxBytes=5 * 2**20,
            backupCount=5,
            encoding="utf-8",
            errors="backslashreplace",
        )
    except (OSError, ValueError):
        return
    paths.private_files(Path(logfile.baseFilename))  # one an older kiosk made 0644
    logfile.addFilter(_withhold_library_text)
    logfile.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    _handlers.append(logfile)
    root.addHandler(logfile)


def _log_hint() -> str:
    """Where the traceback of a failure went: the log file, or why there is none."""
    for handler in _handlers:
        if isinstance(handler, logging.FileHandler):
            return f"details are in {handler.baseFilename}"
    return f"no details were logged: the log folder {paths.log_dir()} cannot be written"


def _os_cause(exc: BaseException) -> OSError | None:
    """The first OSError with an errno in ``exc`` and its causes and contexts.

    Libraries re-raise an OSError without its errno (pydicom: ``OSError: With
    tag (7FE0,0010) got exception: [Errno 28] ...``); the original is its cause.
    """
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno is not None:
            return current
        todo += [current.__cause__, current.__context__]
    return None


def _failure_message(exc: BaseException, args: argparse.Namespace) -> str:
    """One line for an exception that is not a :class:`KioskError`: what happened, what to do."""
    import contextlib
    import errno
    import sqlite3

    no_space = {getattr(errno, n) for n in ("ENOSPC", "EDQUOT", "EFBIG") if hasattr(errno, n)}
    cause = _os_cause(exc) if isinstance(exc, OSError) else None
    if cause is not None:
        where = cause.filename if cause.filename is not None else ""
        reason = cause.strerror or str(cause)
        if cause.errno in no_space:
            return (
                f"no space left on the disk of {where or 'the spool'} ({reason}): free space "
                "on the spool disk, then run the same command again: nothing that was copied "
                "is lost"
            )
        if cause.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            folder = Path(str(where)).parent if where else "the spool and data folders"
            return (
                f"cannot write {where or 'a local file'} ({reason}): check the permissions "
                f"of {folder}, then run the same command again"
            )
    if isinstance(exc, OSError):
        where = exc.filename if exc.filename is not None else ""
        code = errno.errorcode.get(exc.errno or 0, "")
        reason = exc.strerror or str(exc) or "no details"
        return (
            f"{type(exc).__name__}{f' {code}' if code else ''} on {where or 'a local file'} "
            f"({reason}): check that path, then run the same command again; {_log_hint()}"
        )
    if isinstance(exc, sqlite3.DatabaseError):
        database = ""
        with contextlib.suppress(Exception):  # the message comes out even if the config does not
            database = f" {load_config(args.config).database_path}"
        if getattr(exc, "sqlite_errorname", "") == "SQLITE_FULL":
            return (
                f"no space left on the disk of the kiosk database{database} ({exc}): free "
                "space on that disk, then run the same command again; nothing is lost"
            )
        return (
            f"the kiosk database{database} cannot be written ({exc}): check the disk and the "
            f"permissions of its folder, then run the same command again; {_log_hint()}"
        )
    detail = f": {exc}" if str(exc) else ""
    return f"unexpected error ({type(exc).__name__}{detail}); please report it; {_log_hint()}"


def _fail(exc: BaseException, exit_code: int, message: str) -> int:
    """Log ``exc`` with its traceback to the log file only; print ``message`` as one line."""
    if _handlers:
        log.error(
            "command failed (exit %d): %s",
            exit_code,
            message,
            exc_info=exc,
            extra={"file_only": True},
        )
    sys.stderr.write(f"kiosk: {_one_line(message)}\n")
    return exit_code


def _emit(args: argparse.Namespace, data: dict[str, Any], text: Callable[[], str]) -> None:
    """Write a command's result on stdout, JSON or text, under any locale.

    JSON is always UTF-8 (RFC 8259), also under the C locale. Text is in
    stdout's encoding, with backslash escapes for what it cannot hold, and
    every field of every line (fields are tab-separated) is escaped like
    :func:`_one_line`, so a value from a disc can neither add lines nor send
    escape sequences to the terminal.
    """
    from kiosk.media.names import shown

    if args.json:
        out = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        encoding = "utf-8"
    else:
        lines = text().split("\n")
        out = "".join("\t".join(map(shown, line.split("\t"))) + "\n" for line in lines)
        encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a stream with no bytes below it (a test's StringIO)
        sys.stdout.write(out)
        return
    sys.stdout.flush()
    buffer.write(out.encode(encoding, "backslashreplace"))
    buffer.flush()


def cmd_scan(args: argparse.Namespace) -> int:
    """``kiosk scan PATH``."""
    from kiosk.app.scan_disc import scan_disc

    scan = scan_disc(args.path, quick=args.quick)

    def text() -> str:
        lines = [f"{scan.source}: {len(scan.instances)} instances"]
        for patient in scan.patients:
            lines.append(f"patient {patient.patient_id} ({patient.birth_date or 'no birth date'})")
            for study in patient.studies:
                lines.append(
                    f"  study {study.study_instance_uid} {study.study_date} "
                    f"{'/'.join(study.modalities)} {study.study_description!r} "
                    f"{len(study.instances)} instances"
                )
        for problem in scan.problems:
            lines.append(f"problem {problem.code}: {problem.path}: {problem.message}")
        return "\n".join(lines)

    _emit(args, scan.to_json(), text)
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    """``kiosk watch``: one line (one JSON document with ``--json``) per medium event."""
    import os
    import time

    from kiosk.app.watch_media import media_watcher

    settings = None
    if args.config is not None or os.environ.get("KIOSK_CONFIG"):
        settings = load_config(args.config).media
    drop = args.drop_folder or (settings.drop_folder if settings else None)
    interval = args.interval or (settings.poll_interval if settings else 1.0)
    watcher = media_watcher(drop, settings.drop_settle_seconds if settings else 1.0)
    deadline = time.monotonic() + args.timeout if args.timeout > 0 else None
    count = 0
    try:
        while deadline is None or time.monotonic() < deadline:
            for event in watcher.poll():
                if args.json:
                    line = json.dumps(event.to_json(), ensure_ascii=False)
                else:
                    m = event.medium
                    line = f"{event.time} {event.kind.value} {m.kind} {m.mountpoint}"
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
                count += 1
                if args.count and count >= args.count:
                    return 0
            time.sleep(interval)
    except KeyboardInterrupt:
        return 0
    return 0


def cmd_worklist(args: argparse.Namespace) -> int:
    """``kiosk worklist``."""
    from kiosk.app.find_patient import WorklistQuery, query_worklist

    config = load_config(args.config)
    query = WorklistQuery(args.mrn, args.accession, args.name, args.dob, args.date, args.modality)
    items = query_worklist(config, query, department=args.department)

    def text() -> str:
        if not items:
            return "no worklist entries match"
        return "\n".join(
            f"{i.mrn}\t{i.accession_number}\t{i.patient_name}\t{i.birth_date}\t{i.sex}\t"
            f"{i.modality}\t{i.scheduled_date}\t{i.requested_procedure}"
            for i in items
        )

    _emit(args, {"items": [i.to_json() for i in items]}, text)
    return 0


def cmd_match(args: argparse.Namespace) -> int:
    """``kiosk match PATH``."""
    from kiosk.app.find_patient import match_disc
    from kiosk.app.scan_disc import scan_disc

    config = load_config(args.config)
    scan = scan_disc(args.path)
    results = match_disc(config, scan)

    def text() -> str:
        lines = []
        for r in results:
            lines.append(
                f"study {r.study_instance_uid}: {r.decision.outcome.value} ({r.decision.why})"
            )
            for c in r.decision.candidates:
                lines.append(
                    f"  {c.score:4d}  {c.item.mrn}\t{c.item.accession_number}\t"
                    f"{c.item.patient_name}\t{c.item.birth_date}\t{'; '.join(c.reasons)}"
                )
            for c in r.decision.look_alikes:
                lines.append(
                    f"  not proposed (look-alike): {c.item.mrn}\t{c.item.accession_number}\t"
                    f"{c.item.patient_name}\t{c.item.birth_date}"
                )
        return "\n".join(lines)

    _emit(args, {"studies": [r.to_json() for r in results]}, text)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """``kiosk import PATH``."""
    from kiosk.app.find_patient import patient_of
    from kiosk.app.import_disc import default_destination, import_disc
    from kiosk.app.scan_disc import scan_disc
    from kiosk.app.values import ImportRequest
    from kiosk.progress import Event, Milestone, MilestoneKind

    began = time.monotonic()
    config = load_config(args.config)
    dest = default_destination(config, args.dest)
    if not dest:
        raise UsageError(f"no destinations are configured in {config.path}; add one")
    scan = scan_disc(args.path)
    if args.all:
        uids = tuple(
            s.study_instance_uid
            for s in scan.studies
            if args.patient is None or s.patient_id == args.patient
        )
    else:
        uids = tuple(args.study)
    # No accession: the demographics of our patient, from any of their orders.
    item = patient_of(config, args.mrn, args.accession)
    request = ImportRequest(
        study_uids=uids,
        mrn=args.mrn,
        accession=args.accession,
        destination=dest,
        worklist_item=item,
        tag=args.tag,
        reason=args.reason,
        requested_by=args.requested_by,
        user=args.user,
        confirmed_mismatch=args.confirm_mismatch,
        missing_only=args.missing_only,
        outside_patient_id=args.patient,
        reports=tuple(args.report),
    )
    released: list[float] = []

    def on_event(event: Event) -> None:
        if isinstance(event, Milestone) and event.kind is MilestoneKind.DISC_RELEASED:
            released.append(time.monotonic() - began)

    outcomes = import_disc(config, scan, request, send_now=not args.no_send, on_event=on_event)

    def text() -> str:
        return "\n".join(
            f"{o.study_instance_uid} -> {o.destination}: {o.sent}/{o.queued} sent, "
            f"{o.failed} failed, state {o.state}"
            + (f" (held: {o.hold_reason})" if o.hold_reason else "")
            for o in outcomes
        )

    result: dict[str, Any] = {"studies": [o.to_json() for o in outcomes]}
    if released:
        result["disc_released_seconds"] = round(released[0], 3)
    _emit(args, result, text)
    refused = [o for o in outcomes if o.state == "quarantined" and o.hold_reason]
    if refused:
        raise SafetyError(refused[0].hold_reason)
    if unread := max((o.unread_on_medium for o in outcomes), default=0):
        raise PartialError(
            f"{unread} file{'s' if unread != 1 else ''} of the disc (or its index) could not "
            "be read and may be images of these studies: check the disc ('kiosk scan --json' "
            "names them under problems); what was read was sent"
        )
    if clashing := sum(o.clashing_on_medium for o in outcomes):
        raise PartialError(
            f"{clashing} image{'s share' if clashing != 1 else ' shares'} a SOP Instance UID "
            "with another image of the study (on the disc, or imported before from another "
            "disc) and was not sent (a PACS keeps one image per UID): keep the disc and tell "
            "the back office ('kiosk scan --json' names those of this disc under lost); what "
            "else was read was sent"
        )
    if any(o.medium_changed for o in outcomes):
        raise PartialError(
            "the disc's files changed while it was imported (a copy into the drop folder "
            "still going on?): import it again once it is complete; what was sent stays "
            "and the rest is added"
        )
    if args.no_send:
        return 0
    undelivered = sum(o.queued - o.sent for o in outcomes if o.state != "unscheduled")
    if undelivered:
        if all(o.sent == 0 for o in outcomes) and all(o.queued == 0 for o in outcomes):
            raise PeerError("nothing could be queued")
        stopped = [o for o in outcomes if o.state != "unscheduled" and o.failed]
        raise _not_delivered(undelivered, stopped)
    return 0


def _not_delivered(undelivered: int, stopped: Sequence[ImportOutcome]) -> PartialError:
    """Exit 6 for instances not delivered: how many stay queued, how many were stopped
    (quarantined or failed: not retried), and why the first of those was."""
    failed = sum(o.failed for o in stopped)
    waiting = undelivered - failed
    parts = [f"{waiting} stay queued ('kiosk send' retries)"] if waiting else []
    if failed:
        parts.append(f"{failed} are quarantined or failed and are not retried")
    first = next((o.problem for o in stopped if o.problem), "see 'kiosk queue'")
    return PartialError(
        f"{undelivered} instances were not delivered: {' and '.join(parts)} ('kiosk queue' "
        "shows them)" + (f"; the first: {first}" if failed else "")
    )


def cmd_queue(args: argparse.Namespace) -> int:
    """``kiosk queue``."""
    from dataclasses import asdict

    from kiosk.app.back_office import queue

    config = load_config(args.config)
    view = queue(config, state=args.state, destination=args.dest)
    fixes = [c.to_json() for c in view.corrections]
    down = [asdict(d) for d in view.down]
    rows = [
        {
            "id": row.record.id,
            **row.outcome.to_json(),
            "mrn": row.record.mrn,
            "accession_number": row.record.accession_number,
            "unscheduled": not row.record.accession_number,
            "station": row.record.station,
            "updated_at": row.record.updated_at,
            "errors": row.errors,
        }
        for row in view.rows
    ]

    def text() -> str:
        lines = [
            f"{d['destination']} unreachable since {d['down_since']} ({d['failures']} failed "
            f"runs); next automatic try after {d['next_attempt_at']}: {d['last_error']}"
            for d in down
        ]
        for r in rows:
            lines.append(
                f"{r['id']}\t{r['state']}\t{r['destination']}\t{r['sent']}/{r['queued']} sent\t"
                f"{r['study_instance_uid']}" + ("\tunscheduled" if r["unscheduled"] else "")
            )
            lines += [f"\t{e['state']} {e['sop_instance_uid']}: {e['error']}" for e in r["errors"]]
        lines += [
            f"correction: {c['old_study_instance_uid']} on {c['destination']} was sent under MRN "
            f"{c['old_mrn']} {c['old_accession']}, now MRN {c['new_mrn']} {c['new_accession']}; "
            f"old copy: {c['rejection_note']}"
            for c in fixes
            if c["rejection_note"] != "none"
        ]
        return "\n".join(lines) or "the queue is empty"

    _emit(args, {"studies": rows, "destinations_down": down, "corrections": fixes}, text)
    return 0


def cmd_send(args: argparse.Namespace) -> int:
    """``kiosk send``: finish what a crash interrupted, then deliver what is queued."""
    from kiosk.app.deliver_due import deliver_due

    config = load_config(args.config)
    run = deliver_due(
        config,
        destination=args.dest or None,
        retry_failed=args.retry,
        due_only=args.due_only,
        user=args.user,
    )
    recovery, report, remaining, refused = run.recovery, run.report, run.remaining, run.refused
    held = [
        {"id": r.id, "study_instance_uid": r.study_instance_uid, "hold_reason": r.hold_reason}
        for r in run.held
    ]
    data = {
        "sent": report.sent,
        "remaining": remaining,
        "quarantined": report.quarantined,
        "failed": report.failed,
        "unreachable": report.unreachable,
        "bytes": report.bytes,
        "seconds": round(report.seconds, 3),
        "committed": len(run.committed),
        "recovered": recovery.finished,
        "incomplete": [i.to_json() for i in recovery.incomplete],
        "not_all_read": run.not_all_read,
        "refused": [{"id": k, "message": v} for k, v in sorted(refused.items())],
        "held": held,
    }
    _emit(
        args,
        data,
        lambda: (
            f"{report.sent} sent, {remaining} remain"
            + (f", {len(held)} studies held for the back office" if held else "")
        ),
    )
    if refused:
        more = len(refused) - 1
        reason = refused[min(refused)]
        raise SafetyError(reason + (f" ({more} more studies refused too)" if more else ""))
    if recovery.incomplete:
        more = len(recovery.incomplete) - 1
        raise PartialError(
            recovery.incomplete[0].message + (f" ({more} more studies too)" if more else "")
        )
    if recovery.errors:
        raise PartialError(recovery.errors[0])
    if run.not_all_read:
        more = len(run.not_all_read) - 1
        raise PartialError(run.not_all_read[0] + (f" ({more} more studies too)" if more else ""))
    if remaining:
        raise PartialError(
            f"{remaining} instances are still queued or failed; 'kiosk queue' shows them"
        )
    return 0


def cmd_echo(args: argparse.Namespace) -> int:
    """``kiosk echo --dest NAME``: C-ECHO to a destination (exit 4 when it does not answer)."""
    from kiosk.app.check_connection import echo_destination

    config = load_config(args.config)
    dest, result = echo_destination(config, args.dest)
    data = {
        "destination": dest.name,
        "ae_title": dest.ae_title,
        "host": dest.host,
        "port": dest.port,
        "ok": True,
        "status": f"0x{result.status:04X}",
        "milliseconds": round(result.seconds * 1000, 1),
    }
    _emit(
        args,
        data,
        lambda: (
            f"{dest.label or dest.name} ({dest.ae_title} at {dest.host}:{dest.port}) "
            f"answered in {data['milliseconds']} ms"
        ),
    )
    return 0


def cmd_reconcile(args: argparse.Namespace) -> int:
    """``kiosk reconcile STUDY_UID --accession Y [--mrn X [--issuer I]]``."""
    from kiosk.app.reconcile_study import reconcile_study

    config = load_config(args.config)
    outcome = reconcile_study(
        config,
        args.study_uid,
        args.accession,
        mrn=args.mrn,
        issuer=args.issuer,
        user=args.user,
        confirmed_mismatch=args.confirm_mismatch,
        send=not args.no_send,
    )
    _emit(
        args,
        {"studies": [outcome.to_json()]},
        lambda: (
            f"{outcome.study_instance_uid}: accession {args.accession} attached, "
            f"{outcome.sent}/{outcome.queued} sent, state {outcome.state}"
        ),
    )
    if outcome.state == "quarantined" and outcome.hold_reason:  # the PACS refused it, as import
        raise SafetyError(outcome.hold_reason)
    if not args.no_send and outcome.sent < outcome.queued:
        raise _not_delivered(outcome.queued - outcome.sent, [outcome] if outcome.failed else [])
    return 0


def cmd_discard(args: argparse.Namespace) -> int:
    """``kiosk discard STUDY_UID --reason TEXT``: the study is never sent (audited)."""
    from kiosk.app.discard_study import discard_study

    config = load_config(args.config)
    _record, outcome = discard_study(config, args.reason, study_uid=args.study_uid, user=args.user)
    _emit(
        args,
        {"studies": [outcome.to_json()]},
        lambda: f"{outcome.study_instance_uid}: discarded ({args.reason})",
    )
    return 0


def cmd_clean_spool(args: argparse.Namespace) -> int:
    """``kiosk clean-spool``: only committed studies leave the spool."""
    from kiosk.app.housekeeping import clean_spool

    config = load_config(args.config)
    removed = clean_spool(config, days=args.days, user=args.user)
    _emit(args, {"removed": removed}, lambda: f"{len(removed)} committed studies removed")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    """``kiosk audit [--since DATE] [--verify] [--send]``."""
    from kiosk.app.housekeeping import audit_events, export_audit, verify_audit
    from kiosk.errors import AuditChainBroken

    config = load_config(args.config)
    if args.verify:
        result = verify_audit(config, user=args.user)
        _emit(
            args,
            result.to_json(),
            lambda: (
                f"the audit trail is whole ({result.records} records)"
                if result.whole
                else result.message
            ),
        )
        if not result.whole:
            raise AuditChainBroken(f"the audit trail's hash chain is broken: {result.message}")
        return 0
    if args.send:
        report = export_audit(config)
        _emit(
            args,
            report.to_json(),
            lambda: f"{report.sent} audit records sent, {report.queued} queued",
        )
        return 0
    found = audit_events(config, args.since or None, user=args.user)
    _emit(
        args,
        {"events": [e.to_json() for e in found]},
        lambda: "\n".join(
            f"{e.time}\t{e.user}\t{e.station}\t{e.action}\t{e.study_instance_uid}\t{e.outcome}"
            for e in found
        ),
    )
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    """``kiosk users add NAME --role ROLE`` (password on stdin), ``kiosk users list``, ``kiosk
    users role NAME --role ROLE``, ``kiosk users disable NAME`` and ``kiosk users enable NAME``."""
    from kiosk.app.sign_in import add_user, change_user, list_users, parse_role

    config = load_config(args.config)
    if args.users_command in ("role", "disable", "enable"):
        changed = change_user(
            config,
            args.name,
            role=parse_role(args.role) if args.users_command == "role" else None,
            disabled={"role": None, "disable": True, "enable": False}[args.users_command],
            user=args.user,
        )
        _emit(
            args,
            changed.to_json(),
            lambda: f"{changed.name}\t{changed.role}" + ("\tdisabled" if changed.disabled else ""),
        )
        return 0
    if args.users_command == "add":
        role = parse_role(args.role)
        if sys.stdin.isatty():  # a person typing: do not echo it
            import getpass

            password = getpass.getpass(f"password for {args.name.strip()}: ")
        else:
            password = sys.stdin.readline().rstrip("\r\n")
        add_user(config, args.name, role, password, user=args.user)
        _emit(
            args,
            {"name": args.name.strip(), "role": role.value},
            lambda: f"user {args.name.strip()} added ({role.value})",
        )
        return 0
    found = list_users(config, user=args.user)
    _emit(
        args,
        {"users": [u.to_json() for u in found]},
        lambda: (
            "\n".join(f"{u.name}\t{u.role}" + ("\tdisabled" if u.disabled else "") for u in found)
            or "no users: the station runs open (add an admin first)"
        ),
    )
    return 0


def cmd_tag(args: argparse.Namespace) -> int:
    """``kiosk tag STUDY_UID TAG --reason TEXT [--requested-by NAME]``."""
    from kiosk.app.tagging import TagChoice, tag_study

    config = load_config(args.config)
    tag = "" if args.tag == "none" else args.tag
    change = tag_study(
        config,
        TagChoice(tag, args.requested_by, args.reason),
        study_uid=args.study_uid,
        user=args.user,
    )
    read = change.second_read
    data = {
        "study_instance_uid": change.study_instance_uid,
        "tag": change.tag,
        "previous": change.previous,
        "changed": change.changed,
        "second_read": _read_json(read) if read is not None else None,
        "history": [t.to_json() for t in change.history],
    }

    def text() -> str:
        line = f"{change.study_instance_uid}: {change.previous or 'no tag'} -> {tag or 'no tag'}"
        if not change.changed:
            line += " (unchanged)"
        if read is not None:
            line += f"; second read {read.id}: {read.state}"
        return line

    _emit(args, data, text)
    return 0


def _read_json(read: Any) -> dict[str, Any]:
    return {
        "id": read.id,
        "study_instance_uid": read.study_instance_uid,
        "mrn": read.mrn,
        "accession": read.accession,
        "order_needed": not read.accession,
        "requested_by": read.requested_by,
        "reason": read.reason,
        "requested_at": read.requested_at,
        "state": read.state,
        "updated_at": read.updated_at,
    }


def _message_json(row: Any) -> dict[str, Any]:
    return {
        "second_read": row.second_read_id,
        "kind": row.kind,
        "message_type": row.message_type,
        "control_id": row.control_id,
        "state": row.state,
        "attempts": row.attempts,
        "ack_code": row.ack_code,
        "error": row.last_error,
    }


def _unbuilt(problems: list[str]) -> None:
    """Exit 6 naming the second reads whose HL7 message could not be built (the rest went)."""
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise PartialError(
            f"{problems[0]}{more}; the other second reads' messages were queued: correct the "
            "order in the worklist, then run 'kiosk second-reads --send' again"
        )


def cmd_second_reads(args: argparse.Namespace) -> int:
    """``kiosk second-reads``: list; ``--set-state``; ``--format csv|hl7``; ``--send``."""
    from kiosk.app import second_reads as uc

    config = load_config(args.config)
    if args.since and not re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ][0-9:+.Z-]*)?", args.since):
        raise UsageError(f"--since {args.since!r}: give a date as YYYY-MM-DD")
    if args.set_state is not None:
        read_id, state = args.set_state
        if not read_id.isdigit():
            raise UsageError(f"--set-state {read_id!r}: the id is a number ('kiosk second-reads')")
        read = uc.set_billing_state(
            config, int(read_id), state, accession=args.accession, user=args.user
        )
        _emit(
            args,
            {"second_reads": [_read_json(read)]},
            lambda: (
                f"second read {read.id}: {read.state}"
                + (f", accession {read.accession}" if read.accession else "")
            ),
        )
        if not args.send:
            return 0
    if args.send:
        run = uc.send_hl7(config, retry_failed=args.retry, due_only=args.due_only, user=args.user)
        report = run.report
        assert report is not None
        data = {
            "acked": report.acked,
            "waiting": report.waiting,
            "refused": [{"control_id": k, "error": v} for k, v in report.refused.items()],
            "receiver_down": report.down,
            "messages": [_message_json(m) for m in run.messages],
        }
        _emit(
            args,
            data,
            lambda: (
                f"{report.acked} HL7 messages acknowledged, {report.waiting} wait"
                + (f", {len(report.refused)} refused" if report.refused else "")
            ),
        )
        if report.down and not report.acked:
            raise PeerError(
                (report.errors[-1] if report.errors else "the HL7 receiver cannot be reached")
                + f"; {report.waiting} messages stay queued ('kiosk second-reads --send' again)"
            )
        if report.waiting or report.refused:
            first = next(iter(report.refused.values()), "") or (report.errors or [""])[-1]
            raise PartialError(
                f"{report.waiting} HL7 messages stay queued and {len(report.refused)} were "
                f"refused: {first}"
            )
        if report.refused_waiting:
            raise PartialError(
                f"{report.refused_waiting} HL7 messages that billing refused before wait for "
                "the back office: correct them, then 'kiosk second-reads --send --retry'"
            )
        _unbuilt(run.unbuilt)
        return 0
    if args.format == "csv":
        sys.stdout.write(uc.billing_csv(config, args.since, user=args.user))
        return 0
    if args.format == "hl7":
        run = uc.hl7_messages(config, args.since, user=args.user)
        if args.json:
            data = {"messages": [{**_message_json(m), "message": m.message} for m in run.messages]}
            _emit(args, data, lambda: "")
        else:
            sys.stdout.write("".join(m.message.replace("\r", "\n") + "\n" for m in run.messages))
        _unbuilt(run.unbuilt)
        return 0
    reads = uc.list_second_reads(config, args.since, user=args.user)
    _emit(
        args,
        {"second_reads": [_read_json(r) for r in reads]},
        lambda: (
            "\n".join(
                f"{r.id}\t{r.state}\t{r.accession or 'order needed'}\t{r.mrn}\t"
                f"{r.study_instance_uid}\t{r.requested_by}\t{r.reason}"
                for r in reads
            )
            or "no second reads"
        ),
    )
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    """``kiosk render FILE --out PNG``."""
    from kiosk.app.render_image import parse_window, render_image

    window = parse_window(args.window) if args.window is not None else None
    done = render_image(args.file, args.out, frame=args.frame, window=window)
    _emit(
        args,
        done.to_json(),
        lambda: (
            f"{done.out}\t{done.columns}x{done.rows}\tframe {done.frame} of {done.frames}"
            + (f"\twindow {done.window.center:g},{done.window.width:g}" if done.window else "")
        ),
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """``kiosk export --deidentify STUDY_UID --out DIR``: a de-identified copy for teaching."""
    from kiosk.app.export_study import export_deidentified

    config = load_config(args.config)
    result = export_deidentified(config, args.deidentify, args.out, user=args.user)
    _emit(
        args,
        result.to_json(),
        lambda: "\n".join(
            [
                f"{result.files} de-identified files in {result.out} "
                f"(study {result.study_instance_uid})",
                *(f"left out\t{n.sop_instance_uid}\t{n.message}" for n in result.left_out_images),
                *(f"check\t{n.file}\t{n.sop_instance_uid}\t{n.message}" for n in result.warnings),
            ]
        ),
    )
    return 0


def _sign_in(args: argparse.Namespace) -> None:
    """Sign in before a command that needs it, unless the station runs open.

    The name is ``--user`` or ``$KIOSK_USER``; the password ``$KIOSK_PASSWORD``,
    else a prompt on the terminal (never standard input: ``kiosk users add``
    reads the new user's password there).
    """
    import getpass
    import os

    from kiosk.app.sign_in import sign_in, station_access
    from kiosk.errors import ConfigError, SignInError

    args.user = args.user or os.environ.get("KIOSK_USER", "")
    try:
        config = load_config(args.config)
    except ConfigError:
        return  # the command itself says what is wrong with the config
    station = station_access(config, args.user)
    if station.open_station:
        return
    if not args.user:
        raise SignInError(
            "sign-in required: give --user NAME or set KIOSK_USER (and KIOSK_PASSWORD)"
            + (f"; {station.refusal_note}" if station.refusal_note else "")
        )
    password = os.environ.get("KIOSK_PASSWORD")
    if password is None:
        try:
            with open("/dev/tty", "r+", encoding="utf-8") as tty:
                tty.write(f"password for {args.user}: ")
                tty.flush()
                password = getpass.getpass("", stream=tty)
        except OSError:
            raise SignInError(
                "sign-in required: no terminal to ask the password on; set KIOSK_PASSWORD"
            ) from None
    sign_in(config, args.user, password)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "scan": cmd_scan,
    "watch": cmd_watch,
    "worklist": cmd_worklist,
    "match": cmd_match,
    "import": cmd_import,
    "queue": cmd_queue,
    "send": cmd_send,
    "echo": cmd_echo,
    "reconcile": cmd_reconcile,
    "discard": cmd_discard,
    "clean-spool": cmd_clean_spool,
    "audit": cmd_audit,
    "users": cmd_users,
    "export": cmd_export,
    "render": cmd_render,
    "tag": cmd_tag,
    "second-reads": cmd_second_reads,
}


def run_gui(config: Path | None, demo: bool) -> int:
    """Open the desktop app, which registers itself under the ``kiosk.gui`` entry point."""
    from importlib.metadata import entry_points

    found = entry_points(group="kiosk.gui")
    if not found:
        raise UsageError("the desktop app is not installed; install the package with its GUI")
    start = next(iter(found)).load()
    return int(start(config, demo))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``kiosk`` command and return its exit code (``docs/CLI.md``).

    A failure prints one line on stderr and returns a code of the contract:
    a :class:`KioskError` its own; any other exception (a full disk, the
    database, a bug) 7; Ctrl+C 130. Tracebacks go to the log file only.
    """
    from kiosk.errors import LocalError

    parser = build_parser()
    args = parser.parse_args(argv)
    # Python hands the GIL over every 5 ms by default: a thread back from a
    # system call (a file opened, a PDU received) then waits up to that long
    # for a thread that computes (pydicom, a claim). Copying and sending make
    # thousands of short system calls, so 1 ms lets them through sooner
    # (kiosk send of bench_send.py's two workloads: about 12 % faster, 3 runs each).
    sys.setswitchinterval(0.001)
    try:
        paths.protect_files()  # PHI at rest: what this process creates is 0600 / 0700
        _setup_logging(bool(args.verbose))
        if args.command is None:
            return run_gui(args.config, args.demo)
        if args.command in SIGNED_IN:
            _sign_in(args)
        return COMMANDS[args.command](args)
    except KioskError as exc:
        return _fail(exc, exc.exit_code, str(exc))
    except KeyboardInterrupt as exc:
        return _fail(exc, 130, "interrupted")
    except Exception as exc:
        try:
            message = _failure_message(exc, args)
        except Exception:  # e.g. an exception whose str() fails: still one line, still 7
            message = f"unexpected error ({type(exc).__name__}); please report it; {_log_hint()}"
        return _fail(exc, LocalError.exit_code, message)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

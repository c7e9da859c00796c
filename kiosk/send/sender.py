"""C-STORE of spooled files over associations to one destination.

Files are sent from the spool by path and streamed in PDU-sized pieces by the
lean SCU of :mod:`kiosk.net.store`: nothing is decoded or held in memory whole
(``[send] engine = "pynetdicom"``: by pynetdicom's C-STORE,
:mod:`kiosk.net.pynetdicom_store`, through the same interface).
When the PACS does not accept a file's own transfer syntax but accepts an
uncompressed one, the file is decoded (:mod:`kiosk.send.transcode`) and sent
uncompressed with the same SOP Instance UID.

Each SOP class is offered in one presentation context per transfer syntax
(the file's own, then the uncompressed ones), so that a PACS accepting
everything keeps compressed files compressed.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from kiosk import digest
from kiosk.config import Destination
from kiosk.net.store import StoreAnswer, StoreAssociation, connect, parse_file_meta
from kiosk.send.policy import REFUSED_SOP_CLASS

if TYPE_CHECKING:
    from kiosk.net.pynetdicom_store import PynetdicomStoreAssociation

log = logging.getLogger(__name__)

EXPLICIT_LE = "1.2.840.10008.1.2.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
UNCOMPRESSED = (EXPLICIT_LE, IMPLICIT_LE)
MAX_CONTEXTS = 128  # PS3.8: at most 128 presentation contexts per association
HEAD_BYTES = 1 << 16  # first read of each file: the file meta, and all of a small file
#: A coerced instance whose original's rest is at most this is read once and sent from
#: memory; a larger one is streamed (Spliced), at the cost of the kernel's sendfile.
INLINE_REST = 4 << 20


@dataclass(frozen=True)
class SendJob:
    """One instance to send: where it is and what it is.

    With a ``header`` (coercion on the way out, :mod:`kiosk.coercion`) what is
    sent is that coerced header followed by the file at ``path`` from
    ``tail_at`` on; ``digest`` is then the file's (the untouched original) and
    ``header_digest`` the header's (:mod:`kiosk.digest`). Without one, the file is sent as it is.
    """

    key: int
    path: str
    sop_instance_uid: str
    sop_class_uid: str
    transfer_syntax_uid: str
    size: int = 0
    digest: str = ""  # of the file as written; a file that differs is not sent
    header: bytes = b""
    header_digest: str = ""
    tail_at: int = 0


class Spliced(io.RawIOBase):
    """A coerced header followed by an open file's bytes from ``tail_at`` on, read as one file.

    What the SCU streams for an instance coerced on the way out: no second
    copy of the file is written, and only the header is held in memory. It
    has no ``fileno``, so the socket copies it through ``read`` rather than
    the kernel's ``sendfile`` (which sends one file's bytes only).
    """

    def __init__(self, header: bytes, f: BinaryIO, tail_at: int, file_size: int) -> None:
        self.header = header
        self.f = f
        self.tail_at = tail_at
        self.size = len(header) + max(file_size - tail_at, 0)
        self.pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.pos, 2: self.size}[whence]
        self.pos = max(base + offset, 0)
        return self.pos

    def tell(self) -> int:
        return self.pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        done = 0
        if self.pos < len(self.header):
            piece = self.header[self.pos : self.pos + len(view)]
            view[: len(piece)] = piece
            done = len(piece)
            self.pos += done
        if done < len(view) and self.pos >= len(self.header):
            self.f.seek(self.tail_at + self.pos - len(self.header))
            n = self.f.readinto(view[done:])  # type: ignore[attr-defined]
            self.pos += n or 0
            done += n or 0
        return done


@dataclass(frozen=True)
class SendResult:
    """The outcome of one C-STORE: status (None when no answer) and a note.

    ``local``: the spool file could not be sent (unreadable, changed, not
    encodable); nothing went to the PACS, which is not to blame.
    ``comment``: the PACS's Error Comment (0000,0902), if it gave one.
    ``sent``: ``False`` when the request failed before the first byte of the
    data set went out ("never sent": retried without counting an attempt);
    with no status and ``sent`` true, the answer was lost (counted).
    """

    key: int
    status: int | None
    note: str = ""
    size: int = 0
    local: bool = False
    comment: str = ""
    sent: bool = True


class SpoolFileChanged(Exception):
    """A spool file no longer matches the digest recorded when it was written."""


def _verified_head(f: BinaryIO, size: int, recorded: str) -> bytes:
    """Check a spool file against its digest, then return its head (the file meta and more).

    A small file is read once, whole, and that is its head. A larger one is
    read in chunks (not memory-mapped: a file cut short while mapped would
    kill the process with SIGBUS); the pass leaves it in the page cache, from
    which the kernel then sends it.
    """
    if not recorded:
        return f.read(HEAD_BYTES)
    if size <= HEAD_BYTES:
        head = f.read(HEAD_BYTES + 1)
        if not digest.matches(head, recorded):
            raise SpoolFileChanged("the spool file no longer matches its SHA-256")
        return head
    reader = cast(io.BufferedReader, f)  # open(path, "rb"): typing's BinaryIO lacks readinto
    if digest.of_open(reader) != recorded:
        raise SpoolFileChanged("the spool file no longer matches its SHA-256")
    f.seek(0)
    return f.read(HEAD_BYTES)


_HAS_MEMFD = hasattr(os, "memfd_create") and hasattr(os, "sendfile")


def _kernel_copy(src: BinaryIO, dst: BinaryIO, offset: int, count: int) -> None:
    """Append ``count`` bytes of ``src`` from ``offset`` to ``dst``, copied by the kernel."""
    while count > 0:
        n = os.sendfile(dst.fileno(), src.fileno(), offset, count)
        if n <= 0:
            raise SpoolFileChanged("the spool file is shorter than when it was queued")
        offset += n
        count -= n


def _local_problem(exc: Exception) -> str:
    """One line for the back office: why a spool file was not sent, and what to do."""
    if isinstance(exc, SpoolFileChanged | FileNotFoundError):
        what = "is missing" if isinstance(exc, FileNotFoundError) else "was changed or damaged"
        return f"the spool file {what}; not sent: re-import the study from the disc"
    if isinstance(exc, OSError):
        return f"the spool file cannot be read ({exc.strerror}); re-import it from the disc"
    return f"the spool file cannot be sent ({type(exc).__name__}: {exc}); re-import the study"


@dataclass(frozen=True)
class Context:
    """One proposed presentation context: a SOP class with one transfer syntax."""

    abstract_syntax: str
    transfer_syntax: str


@dataclass
class ContextPlan:
    """The presentation contexts of one association and the SOP classes they carry."""

    contexts: list[Context] = field(default_factory=list)
    sop_classes: list[str] = field(default_factory=list)


def plan_contexts(
    syntaxes: Mapping[str, Iterable[str]], offered: Sequence[str] = ()
) -> ContextPlan:
    """Plan contexts for SOP class → transfer syntaxes: each file syntax, then uncompressed ones.

    SOP classes that do not fit in :data:`MAX_CONTEXTS` are left for another association.
    """
    fallback = tuple(offered) or UNCOMPRESSED
    plan = ContextPlan()
    for sop_class in sorted(syntaxes):
        wanted: list[str] = []
        for ts in (*sorted(t for t in syntaxes[sop_class] if t), *fallback):
            if ts not in wanted:
                wanted.append(ts)
        if len(plan.contexts) + len(wanted) > MAX_CONTEXTS:
            continue
        plan.contexts += [Context(sop_class, ts) for ts in wanted]
        plan.sop_classes.append(sop_class)
    return plan


class StoreConnection:
    """One open association that stores files, by either engine (``[send] engine``).

    Opening it opens the association; :meth:`store` sends one job and
    returns its :class:`SendResult`; :meth:`close` releases. The engines
    (:class:`kiosk.net.store.StoreAssociation`, the fast one, and
    :class:`kiosk.net.pynetdicom_store.PynetdicomStoreAssociation`) have the
    same methods and report the same answers and errors.

    Raises
    ------
    AssociationRejected
        If the destination answers A-ASSOCIATE-RJ (permanent or transient).
    PeerError
        If it cannot be reached or the TLS handshake fails.
    """

    def __init__(
        self, destination: Destination, calling_ae: str, plan: ContextPlan, engine: str = "fast"
    ) -> None:  # engine: one of kiosk.config.SEND_ENGINES
        self.destination = destination
        self.plan = plan
        # jobs whose file passed its check ahead of time, kept open for their turn
        self._checked: dict[int, BinaryIO] = {}
        self._scratch: BinaryIO | None = None  # where coerced instances are assembled
        contexts = [(cx.abstract_syntax, cx.transfer_syntax) for cx in plan.contexts]
        self.assoc: StoreAssociation | PynetdicomStoreAssociation
        if engine == "pynetdicom":
            from kiosk.net.pynetdicom_store import PynetdicomStoreAssociation

            self.assoc = PynetdicomStoreAssociation(destination, calling_ae, contexts)
        else:
            self.assoc = connect(destination, calling_ae, contexts)

    @property
    def is_open(self) -> bool:
        """Whether the association is still established."""
        return self.assoc.is_open

    def store(self, job: SendJob, ahead: SendJob | None = None) -> SendResult:
        """Send one file; return its status (``None``: no answer, retry later).

        A spool file that cannot be read, no longer matches its digest, or
        cannot be parsed or encoded is this instance's problem, not the PACS's:
        the result is ``local`` (the instance is quarantined, the association
        and the other instances go on). ``ahead``, the job to be sent next, is
        checked against its digest while the PACS stores this one.
        """
        if not self.is_open:
            return SendResult(job.key, None, "never sent: the association was closed", sent=False)
        syntaxes = self.assoc.accepted.get(job.sop_class_uid)
        if not syntaxes:
            return SendResult(job.key, REFUSED_SOP_CLASS, "SOP class refused by the PACS")
        with contextlib.ExitStack() as stack:
            try:
                f, size, head = self._opened(stack, job)
                meta = parse_file_meta(head)
                context = (
                    self.assoc.context_for(job.sop_class_uid, meta.transfer_syntax)
                    if meta
                    else None
                )
                data = None
                if meta is None or context is None:
                    plain = [ts for ts in (*self.destination.transfer_syntaxes, *UNCOMPRESSED)
                             if ts in syntaxes]  # fmt: skip
                    if not plain:
                        return SendResult(
                            job.key,
                            REFUSED_SOP_CLASS,
                            "the PACS accepts none of the transfer syntaxes offered "
                            f"({job.transfer_syntax_uid})",
                        )
                    data, context = self._transcoded(job, plain[0], syntaxes), None
            except Exception as exc:  # anything wrong with the file: this instance only
                log.warning("instance %s not sent: %s", job.sop_instance_uid, exc)
                return SendResult(job.key, None, _local_problem(exc), local=True)
            if data is not None:
                answer = self.assoc.store_bytes(
                    job.sop_class_uid, job.sop_instance_uid, data[1], data[0]
                )
            else:
                assert meta is not None and context is not None
                if meta.sop_instance and meta.sop_instance != job.sop_instance_uid:
                    log.warning("instance %s: the spool file holds %s; sending the file's UID",
                                job.sop_instance_uid, meta.sop_instance)  # fmt: skip
                answer = self.assoc.store_open_file(
                    job.sop_class_uid,
                    meta.sop_instance or job.sop_instance_uid,
                    context,
                    f,
                    size,
                    head,
                    meta.offset,
                    while_waiting=None if ahead is None else lambda: self._check_ahead(ahead),
                )
        return self._result(job, answer)

    def _result(self, job: SendJob, answer: StoreAnswer) -> SendResult:
        if answer.status is None:
            log.warning("instance %s: %s", job.sop_instance_uid, answer.problem)
            return SendResult(job.key, None, answer.problem, sent=answer.sent)
        return SendResult(job.key, answer.status, size=job.size, comment=answer.comment)

    def _opened(self, stack: contextlib.ExitStack, job: SendJob) -> tuple[BinaryIO, int, bytes]:
        """Open a job's bytes, checked against their digests; return (file, size, head).

        For a job coerced on the way out, both the header and the original
        are checked; the head is the header and the original's rest when that
        is small (:data:`INLINE_REST`, all in memory), else the header alone,
        with the rest streamed by :class:`Spliced`.
        """
        ahead = self._checked.pop(job.key, None)  # checked while the last one was stored
        checked = ahead is not None
        f: BinaryIO = stack.enter_context(ahead or open(job.path, "rb"))  # noqa: SIM115
        if ahead is not None:
            f.seek(0)
        size = os.fstat(f.fileno()).st_size
        if job.header:
            if not digest.matches(job.header, job.header_digest):
                raise SpoolFileChanged("the coerced header no longer matches its SHA-256")
            if size < job.tail_at:
                raise SpoolFileChanged("the spool file is shorter than when it was queued")
            if _HAS_MEMFD and HEAD_BYTES < size - job.tail_at <= INLINE_REST:
                # Header + rest assembled by the kernel in an anonymous in-memory file,
                # which the SCU then sends with sendfile like any spool file.
                if not checked:
                    _verified_head(f, size, job.digest)
                if self._scratch is None:  # one per association, overwritten for each instance
                    self._scratch = open(os.memfd_create("kiosk-send", os.MFD_CLOEXEC), "w+b")  # noqa: SIM115
                mem = self._scratch
                mem.seek(0)
                mem.write(job.header)
                mem.flush()
                _kernel_copy(f, mem, job.tail_at, size - job.tail_at)
                total = len(job.header) + size - job.tail_at  # what follows is stale: not sent
                mem.seek(0)
                return mem, total, mem.read(min(HEAD_BYTES, total))
            if size - job.tail_at <= INLINE_REST:
                # Read once, whole: checked, and sent from memory (header + rest).
                data = f.read(size + 1)
                if len(data) != size or (not checked and not digest.matches(data, job.digest)):
                    raise SpoolFileChanged("the spool file no longer matches its SHA-256")
                head = job.header + data[job.tail_at :]
                return f, len(head), head
            if not checked:
                _verified_head(f, size, job.digest)
            spliced = Spliced(job.header, f, job.tail_at, size)
            spliced.seek(len(job.header))
            return spliced, spliced.size, job.header  # type: ignore[return-value]
        head = f.read(HEAD_BYTES) if checked else _verified_head(f, size, job.digest)
        return f, size, head

    def _check_ahead(self, job: SendJob) -> None:
        """Check the next file against its digest now, while the PACS is busy.

        Only large files: a small one is read and hashed at once in its turn
        (checking it ahead would open it twice). A file that passed is sent
        without a second hash a few milliseconds later; the spool is written
        by the kiosk alone, and what the check guards against (a damaged disk,
        a file cut short) does not happen between the two. Only a file that passes is
        remembered; any other is checked (and refused, with its reason) when
        its turn comes.
        """
        if not job.digest or job.size <= HEAD_BYTES:
            return
        f = None
        try:
            f = open(job.path, "rb")  # noqa: SIM115 - kept open for its turn, closed there
            _verified_head(f, os.fstat(f.fileno()).st_size, job.digest)
        except Exception:  # its own turn says what is wrong with it
            if f is not None:
                f.close()
            return
        self._checked[job.key] = f

    def _transcoded(
        self, job: SendJob, syntax: str, syntaxes: Mapping[str, int]
    ) -> tuple[bytes, int]:
        """Decode a file the PACS does not take as it is; return (data set bytes, context id)."""
        from kiosk.send import transcode  # pydicom and its decoders: only when needed

        if job.header:  # decoded whole anyway: the coerced header and the rest, in memory
            with open(job.path, "rb") as f:
                f.seek(job.tail_at)
                ds = transcode.uncompressed(io.BytesIO(job.header + f.read()))
        else:
            ds = transcode.uncompressed(job.path)
        from pynetdicom.dsutils import encode

        data = encode(ds, syntax == IMPLICIT_LE, True, False)
        if data is None:
            raise ValueError("the data set cannot be encoded")
        return data, syntaxes[syntax]

    def close(self) -> None:
        """Release the association."""
        for f in self._checked.values():  # checked ahead, never sent on this association
            f.close()
        self._checked.clear()
        if self._scratch is not None:
            self._scratch.close()
            self._scratch = None
        self.assoc.release()

"""Use case: the embedded demo (peers on loopback, a sample disc, a throw-away store)."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kiosk.config import Config, load_config


@dataclass
class DemoSession:
    """The embedded demo: peers on loopback, a sample disc, a throw-away store."""

    peers: object
    config: Config
    disc: Path
    workdir: Path
    #: The demo's billing interface engine (MLLP), which second reads are sent to.
    billing: object = None

    def close(self) -> None:
        """Stop the peers and remove the demo's files."""
        for peer in (self.peers, self.billing):
            stop = getattr(peer, "stop", None)
            if stop is not None:
                stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


def start_demo(workdir: Path | None = None) -> DemoSession:
    """Start the demo worklist, PACS and billing, make the sample disc, write a config."""
    from kiosk.demo import DemoPeers
    from kiosk.demo.billing import DemoBilling
    from kiosk.demo.sample_disc import make_sample_disc

    workdir = workdir or Path(tempfile.mkdtemp(prefix="kiosk-demo-"))
    disc = make_sample_disc(workdir / "disc").root
    peers = DemoPeers(workdir)
    peers.start()
    billing = DemoBilling(workdir)
    try:
        billing.start()
    except BaseException:
        peers.stop()
        raise
    config_path = peers.write_config(workdir / "kiosk.toml", workdir / "spool")
    with config_path.open("a", encoding="utf-8") as fh:
        db_path = (workdir / "kiosk.sqlite3").as_posix()
        fh.write(f'\n[database]\npath = "{db_path}"\n')
        fh.write(
            '\n[hl7]\nhost = "127.0.0.1"\n'
            f'port = {billing.port}\nreceiving_application = "DEMOBILLING"\n'
        )
    return DemoSession(peers, load_config(config_path), disc, workdir, billing)


def conflict_disc(folder: Path) -> Path:
    """A sample disc that files Anna Kowalski's X-ray under John Smith's Study UID.

    The demo of a disc whose identifiers conflict (the window names the UID
    and the outside IDs, never merges the two patients); returns its root.
    """
    import pydicom

    from kiosk.demo.sample_disc import ANNA_KOWALSKI, JOHN_SMITH, make_sample_disc

    sample = make_sample_disc(folder, with_dicomdir=False)
    by_id = {p.patient_id: p for p in sample.patients}
    smith_uid = by_id[JOHN_SMITH.patient_id].study_uids[0]
    for study in by_id[ANNA_KOWALSKI.patient_id].studies:
        for path in (f for series in study.series for f in series.files):
            ds = pydicom.dcmread(sample.root / path)
            ds.StudyInstanceUID = smith_uid
            ds.save_as(sample.root / path)
    return sample.root


# The names of the multi-script demo: a Japanese disc (ISO 2022 IR 87, three
# component groups) and a Russian one (ISO_IR 144); the worklist holds the
# first in kanji and kana only and the second in Latin letters.
JAPANESE_NAME = "YAMADA^HANAKO=山田^花子=やまだ^はなこ"
RUSSIAN_NAME = "Иванов^Сергей"


def names_disc(session: DemoSession, folder: Path) -> Path:
    """A sample disc whose patients have a Japanese and a Russian name, and their orders.

    Jane Doe's files become ``山田花子`` (``\\ISO 2022 IR 87``), Jürgen Müller's
    ``Иванов Сергей`` (``ISO_IR 144``); the running demo worklist gets an
    order for each, written as a Japanese and a European hospital would
    (``=山田^花子=やまだ^はなこ``, ``IVANOV^SERGEY``). Returns the disc root.
    """
    import pydicom

    from kiosk.demo import DemoPeers
    from kiosk.demo.peers import demo_worklist_items
    from kiosk.demo.sample_disc import JANE_DOE, JURGEN_MULLER, make_sample_disc

    sample = make_sample_disc(folder, with_dicomdir=False)
    renamed = {
        JANE_DOE.patient_id: (JAPANESE_NAME, ["", "ISO 2022 IR 87"]),
        JURGEN_MULLER.patient_id: (RUSSIAN_NAME, "ISO_IR 144"),
    }
    for patient in sample.patients:
        if patient.patient_id not in renamed:
            continue
        name, charset = renamed[patient.patient_id]
        for study in patient.studies:
            for path in (f for series in study.series for f in series.files):
                ds = pydicom.dcmread(sample.root / path)
                ds.SpecificCharacterSet = charset
                ds.PatientName = name
                if "ReferringPhysicianName" in ds:  # Latin-1 letters do not fit ISO_IR 144
                    ds.ReferringPhysicianName = "Петрова^Анна" if charset == "ISO_IR 144" else ""
                ds.save_as(sample.root / path)
    orders = {
        "MRN100234": ("=山田^花子=やまだ^はなこ", ["", "ISO 2022 IR 87"]),
        "MRN100871": ("IVANOV^SERGEY", "ISO_IR 100"),
    }
    items = []
    for item in demo_worklist_items():
        if item.PatientID in orders:
            item.PatientName, item.SpecificCharacterSet = orders[item.PatientID]
            items.append(item)
    if isinstance(session.peers, DemoPeers):
        session.peers.replace_items(items)
    return sample.root

"""Tests for kiosk.demo.peers: the embedded worklist and PACS peers.

DCMTK's tools are called by absolute path: the venv's bin folder holds
pynetdicom's own ``storescu``/``findscu`` with the same names.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import time
import tomllib
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pynetdicom import AE
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    CTImageStorage,
    ModalityWorklistInformationFind,
    UltrasoundMultiFrameImageStorage,
    Verification,
)

from kiosk.demo import sample_disc
from kiosk.demo.peers import DemoPeers, demo_worklist_items, match_worklist_item
from kiosk.demo.sample_disc import SampleDisc, make_sample_disc

FINDSCU = Path("/usr/bin/findscu")
STORESCU = Path("/usr/bin/storescu")
DCMTK_ENV = {**os.environ, "TCP_NODELAY": "1"}
needs_findscu = pytest.mark.skipif(not FINDSCU.exists(), reason="DCMTK findscu not installed")
needs_storescu = pytest.mark.skipif(not STORESCU.exists(), reason="DCMTK storescu not installed")

TODAY = date.today().strftime("%Y%m%d")


@pytest.fixture(scope="module")
def peers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoPeers]:
    demo = DemoPeers(tmp_path_factory.mktemp("demo"))
    demo.start()
    try:
        yield demo
    finally:
        demo.stop()


@pytest.fixture(scope="module")
def disc(tmp_path_factory: pytest.TempPathFactory) -> SampleDisc:
    return make_sample_disc(tmp_path_factory.mktemp("disc") / "CD", with_dicomdir=False)


def findscu(peers: DemoPeers, out: Path, *keys: str) -> list[Dataset]:
    """Query the demo MWL with DCMTK findscu; return the responses, in order."""
    out.mkdir(parents=True, exist_ok=True)
    args = [str(FINDSCU), "-W", "-aet", "KIOSK", "-aec", "DEMOMWL", "-X", "-od", str(out)]
    for key in keys:
        args += ["-k", key]
    result = subprocess.run(
        [*args, "127.0.0.1", str(peers.worklist_port)],
        env=DCMTK_ENV,
        capture_output=True,
        encoding="latin-1",
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return [dcmread(p) for p in sorted(out.glob("rsp*.dcm"))]


def pyfind(peers: DemoPeers, query: Dataset, called: str = "DEMOMWL") -> list[Dataset]:
    """Query the demo MWL with pynetdicom; return the pending identifiers."""
    ae = AE(ae_title="KIOSK")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 10
    ae.add_requested_context(ModalityWorklistInformationFind)
    assoc = ae.associate("127.0.0.1", peers.worklist_port, ae_title=called)
    assert assoc.is_established
    found: list[Dataset] = []
    statuses: list[int] = []
    try:
        for status, identifier in assoc.send_c_find(query, ModalityWorklistInformationFind):
            assert status is not None and "Status" in status
            statuses.append(int(status.Status))
            if status.Status == 0xFF00:
                assert identifier is not None
                found.append(identifier)
    finally:
        assoc.release()
    assert statuses[-1] == 0x0000 and all(s == 0xFF00 for s in statuses[:-1])
    return found


def sps(**keys: str) -> Dataset:
    item = Dataset()
    for keyword, value in keys.items():
        setattr(item, keyword, value)
    return item


# --------------------------------------------------------------------------- worklist content


def test_worklist_content() -> None:
    items = demo_worklist_items()
    assert len(items) >= 12
    accessions = [str(ds.AccessionNumber) for ds in items]
    assert len(set(accessions)) == len(accessions)
    for ds in items:
        assert str(ds.PatientID).startswith("MRN")
        assert ds.IssuerOfPatientID == "MAINHOSP"
        assert str(ds.AccessionNumber).startswith("ACC2026")
        step = ds.ScheduledProcedureStepSequence[0]
        for keyword in (
            "Modality",
            "ScheduledProcedureStepStartDate",
            "ScheduledStationAETitle",
            "ScheduledProcedureStepID",
            "ScheduledProcedureStepDescription",
            "ScheduledProcedureStepLocation",
        ):
            assert step.get(keyword), keyword
        assert step.ScheduledProcedureStepLocation in {"RADIOLOGY", "CARDIOLOGY"}
    dates = [ds.ScheduledProcedureStepSequence[0].ScheduledProcedureStepStartDate for ds in items]
    assert dates.count(TODAY) > len(items) // 2
    # Every sample-disc patient has an order under our MRN, same name and birth date.
    for patient in sample_disc.DEMO_PATIENTS:
        orders = [
            ds
            for ds in items
            if str(ds.PatientName) == patient.patient_name
            and ds.PatientBirthDate == patient.birth_date
        ]
        assert len(orders) == 1, patient.patient_name
        assert orders[0].PatientID != patient.patient_id
    # Twins: same family name and birth date, different given names.
    kowalski = [ds for ds in items if ds.PatientName.family_name == "KOWALSKI"]
    assert len({ds.PatientBirthDate for ds in kowalski}) == 1
    assert len({ds.PatientName.given_name for ds in kowalski}) == 2
    # Two SMITH^JOHN with different birth dates.
    smiths = [ds for ds in items if str(ds.PatientName) == "SMITH^JOHN"]
    assert len({ds.PatientBirthDate for ds in smiths}) == 2


def test_matching_rules_without_network() -> None:
    items = demo_worklist_items(date(2026, 3, 10))
    jane = next(ds for ds in items if ds.PatientID == "MRN100234")

    query = Dataset()
    query.PatientName = "doe^jane^m^^"  # case and empty trailing components do not matter
    query.AccessionNumber = ""
    query.ScheduledProcedureStepSequence = []  # zero items: return the whole sequence
    response = match_worklist_item(query, jane)
    assert response is not None
    assert response.AccessionNumber == jane.AccessionNumber
    assert response.ScheduledProcedureStepSequence[0].ScheduledProcedureStepID
    assert "PatientID" not in response

    query = Dataset()
    query.PatientID = "MRN100234"
    query.PatientWeight = None  # asked but unknown: returned empty
    query.ScheduledProcedureStepSequence = [sps(ScheduledProcedureStepStartDate="-20260309")]
    assert match_worklist_item(query, jane) is None
    query.ScheduledProcedureStepSequence = [sps(ScheduledProcedureStepStartDate="20260310-")]
    response = match_worklist_item(query, jane)
    assert response is not None
    assert "PatientWeight" in response and response.PatientWeight is None
    assert response.SpecificCharacterSet == "ISO_IR 100"

    query = Dataset()
    query.AccessionNumber = ["ACC20260001", str(jane.AccessionNumber)]  # list matching
    assert match_worklist_item(query, jane) is not None
    query.AccessionNumber = "ACC2026041?"
    assert match_worklist_item(query, jane) is not None
    query.AccessionNumber = "acc2026041?"  # not a PN: case-sensitive
    assert match_worklist_item(query, jane) is None


# --------------------------------------------------------------------------- C-FIND


@needs_findscu
def test_findscu_wildcard_returns_only_the_asked_keys(peers: DemoPeers, tmp_path: Path) -> None:
    responses = findscu(
        peers,
        tmp_path,
        "PatientName=SMITH*",
        "PatientID",
        "PatientBirthDate",
        "ScheduledProcedureStepSequence[0].Modality",
    )
    assert sorted(str(ds.PatientID) for ds in responses) == ["MRN101502", "MRN101977"]
    assert {str(ds.PatientName) for ds in responses} == {"SMITH^JOHN"}
    assert {ds.PatientBirthDate for ds in responses} == {"19720305", "19491130"}
    for ds in responses:
        assert {e.keyword for e in ds} == {
            "SpecificCharacterSet",
            "PatientName",
            "PatientID",
            "PatientBirthDate",
            "ScheduledProcedureStepSequence",
        }
        (step,) = ds.ScheduledProcedureStepSequence
        assert {e.keyword for e in step} == {"Modality"}
        assert "AccessionNumber" not in ds
    assert {ds.ScheduledProcedureStepSequence[0].Modality for ds in responses} == {"DX", "MR"}


@needs_findscu
def test_findscu_single_value_and_case_insensitive_name(peers: DemoPeers, tmp_path: Path) -> None:
    (one,) = findscu(peers, tmp_path / "a", "PatientID=MRN100234", "AccessionNumber", "PatientName")
    assert str(one.PatientName) == "DOE^JANE^M"
    assert str(one.AccessionNumber).startswith("ACC2026")
    twins = findscu(peers, tmp_path / "b", "PatientName=kowalski^*", "PatientBirthDate=19900817")
    assert sorted(str(ds.PatientName) for ds in twins) == ["KOWALSKI^ANNA", "KOWALSKI^EWA"]
    assert findscu(peers, tmp_path / "c", "PatientID=MRN999999", "PatientName") == []


@needs_findscu
def test_findscu_date_range_and_modality(peers: DemoPeers, tmp_path: Path) -> None:
    items = peers.worklist_items
    yesterday = (date.today() - timedelta(days=1)).strftime("%Y%m%d")
    tomorrow = (date.today() + timedelta(days=1)).strftime("%Y%m%d")

    def expected(low: str, high: str, modality: str | None = None) -> list[str]:
        out = []
        for ds in items:
            step = ds.ScheduledProcedureStepSequence[0]
            if low <= step.ScheduledProcedureStepStartDate <= high and (
                modality is None or step.Modality == modality
            ):
                out.append(str(ds.AccessionNumber))
        return sorted(out)

    got = findscu(
        peers,
        tmp_path / "today",
        "AccessionNumber",
        f"ScheduledProcedureStepSequence[0].ScheduledProcedureStepStartDate={TODAY}-{TODAY}",
    )
    assert sorted(str(ds.AccessionNumber) for ds in got) == expected(TODAY, TODAY)
    assert 0 < len(got) < len(items)

    got = findscu(
        peers,
        tmp_path / "window",
        "AccessionNumber",
        f"ScheduledProcedureStepSequence[0].ScheduledProcedureStepStartDate={yesterday}-{tomorrow}",
    )
    assert sorted(str(ds.AccessionNumber) for ds in got) == expected(yesterday, tomorrow)
    assert len(got) == len(items) - 1  # all but the step next week

    got = findscu(
        peers,
        tmp_path / "later",
        "AccessionNumber",
        f"ScheduledProcedureStepSequence[0].ScheduledProcedureStepStartDate={tomorrow}-",
    )
    assert sorted(str(ds.AccessionNumber) for ds in got) == expected(tomorrow, "99991231")
    assert len(got) == 2

    got = findscu(
        peers,
        tmp_path / "us",
        "PatientName",
        "ScheduledProcedureStepSequence[0].Modality=US",
        "ScheduledProcedureStepSequence[0].ScheduledProcedureStepLocation",
    )
    names = sorted(str(ds.PatientName) for ds in got)
    assert names == ["HANSEN^LARS", "MÜLLER^JÜRGEN"]
    assert {ds.ScheduledProcedureStepSequence[0].ScheduledProcedureStepLocation for ds in got} == {
        "CARDIOLOGY"
    }


def test_pynetdicom_query_latin1_and_birth_date_range(peers: DemoPeers) -> None:
    query = Dataset()
    query.SpecificCharacterSet = "ISO_IR 100"
    query.PatientName = "MÜLLER*"
    query.PatientID = ""
    query.IssuerOfPatientID = ""
    query.RequestedProcedureDescription = ""
    (found,) = pyfind(peers, query)
    assert str(found.PatientName) == "MÜLLER^JÜRGEN"
    assert found.PatientID == "MRN100871"
    assert found.IssuerOfPatientID == "MAINHOSP"
    assert "PatientBirthDate" not in found and "AccessionNumber" not in found

    query = Dataset()
    query.PatientName = ""
    query.PatientBirthDate = "19900101-19901231"
    query.ScheduledProcedureStepSequence = [sps(Modality="CR", ScheduledProcedureStepStartDate="")]
    found_twins = pyfind(peers, query)
    assert sorted(str(ds.PatientName) for ds in found_twins) == ["KOWALSKI^ANNA", "KOWALSKI^EWA"]

    query.ScheduledProcedureStepSequence = [sps(Modality="MR")]
    assert pyfind(peers, query) == []


def test_wrong_called_ae_title_is_rejected(peers: DemoPeers) -> None:
    ae = AE(ae_title="KIOSK")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 10
    ae.add_requested_context(Verification)
    assoc = ae.associate("127.0.0.1", peers.worklist_port, ae_title="NOTMWL")
    assert assoc.is_rejected
    assoc = ae.associate("127.0.0.1", peers.radiology_port, ae_title="RADPACS")
    assert assoc.is_established
    try:
        status = assoc.send_c_echo()
        assert status.Status == 0x0000
    finally:
        assoc.release()


# --------------------------------------------------------------------------- C-STORE


def dataset_bytes(path: Path) -> bytes:
    """The encoded data set of a Part-10 file (what follows the file meta group)."""
    raw = path.read_bytes()
    assert raw[128:132] == b"DICM"
    # (0002,0000) UL, explicit VR: tag(4) VR(2) length(2) value(4)
    group_length = int.from_bytes(raw[140:144], "little")
    return raw[144 + group_length :]


@needs_storescu
def test_storescu_to_radpacs_is_byte_identical(
    peers: DemoPeers, disc: SampleDisc, tmp_path: Path
) -> None:
    source = disc.files[0]
    sent = dcmread(source)
    result = subprocess.run(
        [
            str(STORESCU),
            "-aet",
            "KIOSK",
            "-aec",
            "RADPACS",
            "127.0.0.1",
            str(peers.radiology_port),
            str(source),
        ],
        env=DCMTK_ENV,
        capture_output=True,
        encoding="latin-1",
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    received = peers.received_dir("radiology") / f"{sent.SOPInstanceUID}.dcm"
    assert received in peers.received_files("radiology")
    got = dcmread(received)
    assert got.SOPClassUID == CTImageStorage
    assert got.SOPInstanceUID == sent.SOPInstanceUID
    assert got.file_meta.MediaStorageSOPInstanceUID == sent.SOPInstanceUID
    assert got.PixelData == sent.PixelData
    assert dataset_bytes(received) == dataset_bytes(source)
    assert not any(peers.received_dir("cardiology").glob(f"{sent.SOPInstanceUID}*"))


def test_pynetdicom_store_multiframe_to_cardpacs(peers: DemoPeers, disc: SampleDisc) -> None:
    us = next(st for st in disc.studies if st.modality == "US")
    source = us.series[0].files[0]
    ds = dcmread(source)
    ae = AE(ae_title="KIOSK")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 10
    ae.add_requested_context(UltrasoundMultiFrameImageStorage, ds.file_meta.TransferSyntaxUID)
    assoc = ae.associate("127.0.0.1", peers.cardiology_port, ae_title="CARDPACS")
    assert assoc.is_established
    try:
        status = assoc.send_c_store(ds)
        assert status.Status == 0x0000
    finally:
        assoc.release()
    received = peers.received_dir("cardiology") / f"{ds.SOPInstanceUID}.dcm"
    got = dcmread(received)
    assert int(got.NumberOfFrames) == int(ds.NumberOfFrames)
    assert got.PixelData == ds.PixelData


def test_logs_carry_no_patient_names(
    peers: DemoPeers, disc: SampleDisc, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="pynetdicom")
    query = Dataset()
    query.PatientName = "*"
    query.PatientID = ""
    query.PatientBirthDate = ""
    assert len(pyfind(peers, query)) == len(peers.worklist_items)
    ds = dcmread(disc.files[0])
    ae = AE(ae_title="KIOSK")
    ae.add_requested_context(CTImageStorage, ds.file_meta.TransferSyntaxUID)
    assoc = ae.associate("127.0.0.1", peers.radiology_port, ae_title="RADPACS")
    assert assoc.is_established
    try:
        assert assoc.send_c_store(ds).Status == 0x0000
    finally:
        assoc.release()
    text = caplog.text
    assert str(ds.SOPInstanceUID) in text  # logged by UID
    for item in peers.worklist_items:
        assert str(item.PatientName) not in text
        assert str(item.PatientID) not in text
    for patient in disc.patients:
        assert patient.patient_name not in text
        assert patient.patient_id not in text


# --------------------------------------------------------------------------- config, lifecycle


def test_write_config(peers: DemoPeers, tmp_path: Path) -> None:
    spool = Path(r"C:\Users\front desk\Kiosk \"spool\"")  # Windows-style, with a quote
    path = peers.write_config(tmp_path / "conf" / "kiosk.toml", spool)
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    assert config["kiosk"] == {"station": "DEMO-FRONTDESK", "ae_title": "KIOSK"}
    assert config["worklist"] == {
        "ae_title": "DEMOMWL",
        "host": "127.0.0.1",
        "port": peers.worklist_port,
    }
    assert config["destinations"]["radiology"] == {
        "ae_title": "RADPACS",
        "host": "127.0.0.1",
        "port": peers.radiology_port,
        "label": "Radiology PACS (demo)",
        "department": "radiology",
    }
    assert config["destinations"]["cardiology"]["ae_title"] == "CARDPACS"
    assert config["destinations"]["cardiology"]["port"] == peers.cardiology_port
    assert config["destinations"]["cardiology"]["label"] == "Cardiology PACS (demo)"
    assert config["spool"]["dir"] == str(spool)


def test_stop_releases_the_ports(tmp_path: Path) -> None:
    demo = DemoPeers(tmp_path)
    with pytest.raises(RuntimeError):
        _ = demo.worklist_port
    demo.start()
    ports = [demo.worklist_port, demo.radiology_port, demo.cardiology_port]
    assert len(set(ports)) == 3
    with pytest.raises(RuntimeError):
        demo.start()
    # An open association must not keep stop() waiting.
    ae = AE(ae_title="KIOSK")
    ae.add_requested_context(Verification)
    assoc = ae.associate("127.0.0.1", demo.radiology_port, ae_title="RADPACS")
    assert assoc.is_established
    started = time.monotonic()
    demo.stop()
    assert time.monotonic() - started < 5
    assoc.release()
    demo.stop()  # idempotent
    assert not demo.running
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))  # fails while anything still listens there
            sock.listen()
    with pytest.raises(RuntimeError):
        _ = demo.radiology_port

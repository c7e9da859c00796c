"""The peer fixtures really work: round trips with DCMTK's tools and pynetdicom.

Each test talks to a real server process: DCMTK ``wlmscpfs`` / ``storescp``
and Orthanc, started by the fixtures in ``conftest.py``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.uid import (
    UID,
    CTImageStorage,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    RLELossless,
    generate_uid,
)
from pynetdicom import AE, evt
from pynetdicom.association import Association
from pynetdicom.dimse_primitives import N_EVENT_REPORT

from tests.peers import (
    DUMP2DCM,
    ECHOSCU,
    FINDSCU,
    LOOPBACK,
    STORESCU,
    OrthancServer,
    PeerError,
    StorageServer,
    WorklistServer,
    dcmtk_env,
    free_port,
    make_worklist_item,
    running_peers,
    wait_until,
)

# SOP classes (pynetdicom.sop_class generates these names at import time,
# which type checkers cannot see).
Verification = UID("1.2.840.10008.1.1")
ModalityWorklistInformationFind = UID("1.2.840.10008.5.1.4.31")
StorageCommitmentPushModel = UID("1.2.840.10008.1.20.1")
StorageCommitmentPushModelInstance = UID("1.2.840.10008.1.20.1.1")  # well-known instance

LATIN1_NAME = "Müller^Jürgen"  # needs ISO_IR 100: ü is 0xFC in Latin-1


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def run_dcmtk(args: Sequence[str], *, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a DCMTK command-line tool (absolute path, TCP_NODELAY=1)."""
    return subprocess.run(
        list(args),
        cwd=cwd,
        env=dcmtk_env(),
        capture_output=True,
        encoding="utf-8",
        errors="replace",
        timeout=60,
        check=False,
    )


def make_ct(**fields: Any) -> Dataset:
    """A tiny but complete 8x8 CT image, Explicit VR Little Endian, with file meta."""
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.PatientName = "OUTSIDE^PATIENT"
    ds.PatientID = "EXT-123"
    ds.PatientBirthDate = "19800202"
    ds.PatientSex = "M"
    ds.StudyDate = "20240101"
    ds.StudyTime = "120000"
    ds.AccessionNumber = ""
    ds.ReferringPhysicianName = ""
    ds.StudyID = "1"
    ds.Modality = "CT"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.RescaleIntercept = -1024
    ds.RescaleSlope = 1
    ds.KVP = 120
    ds.ImagePositionPatient = [0, 0, 0]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [1, 1]
    ds.SliceThickness = 1
    for keyword, value in fields.items():
        setattr(ds, keyword, value)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    pixels = (np.arange(64, dtype=np.uint16) * 50).reshape(8, 8)
    ds.set_pixel_data(pixels, "MONOCHROME2", 12)
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ds


def make_rle_ct(**fields: Any) -> Dataset:
    """The same CT compressed with RLE Lossless (pydicom 3 encodes RLE natively)."""
    ds = make_ct(**fields)
    ds.compress(RLELossless)
    assert ds.file_meta.TransferSyntaxUID == RLELossless
    return ds


def save(ds: Dataset, path: Path) -> Path:
    ds.save_as(path, enforce_file_format=True)
    return path


def make_ae(ae_title: str = "KIOSK") -> AE:
    ae = AE(ae_title=ae_title)
    ae.acse_timeout = 10
    ae.dimse_timeout = 10
    ae.network_timeout = 10
    return ae


def associate(ae: AE, server: StorageServer | WorklistServer | OrthancServer) -> Association:
    assoc = ae.associate(LOOPBACK, server.port, ae_title=server.ae_title)
    assert assoc.is_established, f"association to {server!r} failed:\n{server.log_tail()}"
    return assoc


def c_store(server: StorageServer | OrthancServer, *datasets: Dataset) -> list[int]:
    """C-STORE with pynetdicom, proposing each dataset's own transfer syntax."""
    ae = make_ae()
    for ts in sorted({ds.file_meta.TransferSyntaxUID for ds in datasets}):
        ae.add_requested_context(CTImageStorage, [ts])
    assoc = associate(ae, server)
    try:
        return [int(assoc.send_c_store(ds).Status) for ds in datasets]
    finally:
        assoc.release()


# --------------------------------------------------------------------------
# free ports, process bookkeeping
# --------------------------------------------------------------------------


def test_free_port_is_bindable_on_loopback() -> None:
    port = free_port()
    assert 1024 <= port <= 65535
    with socket.socket() as sock:
        sock.bind((LOOPBACK, port))


def test_servers_are_registered_while_running_and_only_then(tmp_path: Path) -> None:
    server = StorageServer(tmp_path / "scp")
    assert server not in running_peers()
    with server:
        assert server.running
        assert server in running_peers()
        pid = server.pid
    assert not server.running
    assert server not in running_peers()
    assert pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_dead_peer_is_reported_with_its_log(tmp_path: Path) -> None:
    bad = StorageServer(tmp_path / "bad", extra_args=["--no-such-option"])
    with pytest.raises(PeerError, match="no-such-option"):
        bad.start()
    assert not bad.running
    assert bad not in running_peers()


# --------------------------------------------------------------------------
# Modality worklist (wlmscpfs)
# --------------------------------------------------------------------------


def test_worklist_item_file_is_a_dicom_file(worklist_server: WorklistServer) -> None:
    path = worklist_server.add_item(PatientName=LATIN1_NAME)
    assert path.parent == worklist_server.data_dir / "WLMTEST"
    assert (path.parent / "lockfile").exists()
    assert path.suffix == ".wl"
    raw = path.read_bytes()
    assert raw[128:132] == b"DICM"
    assert LATIN1_NAME.encode("latin-1") in raw
    ds = dcmread(path)
    assert ds.SpecificCharacterSet == "ISO_IR 100"
    assert ds.PatientName == LATIN1_NAME
    assert ds.ScheduledProcedureStepSequence[0].ScheduledStationAETitle == "KIOSK"


def test_worklist_findscu_dcmtk(worklist_server: WorklistServer, tmp_path: Path) -> None:
    worklist_server.add_item(
        PatientName=LATIN1_NAME,
        PatientID="P-LATIN1",
        IssuerOfPatientID="HOSP-A",
        PatientBirthDate="19650412",
        PatientSex="M",
        AccessionNumber="ACC-0001",
        RequestedProcedureID="RP-0001",
        RequestedProcedureDescription="IMPORT OUTSIDE CT",
        Modality="CT",
        ScheduledStationAETitle="KIOSK",
        ScheduledProcedureStepStartDate="20250102",
        ScheduledProcedureStepStartTime="093000",
        ScheduledProcedureStepID="SPS-0001",
        ScheduledProcedureStepDescription="IMPORT",
        ScheduledProcedureStepLocation="FRONT DESK 1",
    )
    worklist_server.add_item(PatientName="DOE^JOHN", PatientID="P-OTHER")

    # The classic way: a query written as a text dump, converted by dump2dcm.
    dump = tmp_path / "query.dump"
    dump.write_text(
        "\n".join(
            [
                "(0008,0005) CS [ISO_IR 100]",
                "(0008,0050) SH []",
                "(0010,0010) PN []",
                "(0010,0020) LO [P-LATIN1]",
                "(0010,0021) LO []",
                "(0010,0030) DA []",
                "(0010,0040) CS []",
                "(0020,000d) UI []",
                "(0032,1060) LO []",
                "(0040,1001) SH []",
                "(0040,0100) SQ",
                "(fffe,e000) -",
                "(0008,0060) CS []",
                "(0040,0001) AE [KIOSK]",
                "(0040,0002) DA []",
                "(0040,0003) TM []",
                "(0040,0007) LO []",
                "(0040,0009) SH []",
                "(0040,0011) SH []",
                "(fffe,e00d) -",
                "(fffe,e0dd) -",
                "",
            ]
        ),
        encoding="ascii",
    )
    query = tmp_path / "query.dcm"
    converted = run_dcmtk([DUMP2DCM, str(dump), str(query)])
    assert converted.returncode == 0, converted.stderr

    out = tmp_path / "responses"
    out.mkdir()
    result = run_dcmtk(
        [
            FINDSCU,
            "-W",
            "-aet",
            "KIOSK",
            "-aec",
            worklist_server.ae_title,
            "-X",
            "-od",
            str(out),
            LOOPBACK,
            str(worklist_server.port),
            str(query),
        ]
    )
    assert result.returncode == 0, result.stdout + result.stderr
    responses = sorted(out.glob("rsp*.dcm"))
    assert [p.name for p in responses] == ["rsp0001.dcm"], worklist_server.log_tail()

    rsp = dcmread(responses[0])
    assert rsp.SpecificCharacterSet == "ISO_IR 100"
    assert LATIN1_NAME.encode("latin-1") in responses[0].read_bytes()
    assert str(rsp.PatientName) == LATIN1_NAME
    assert rsp.PatientID == "P-LATIN1"
    assert rsp.IssuerOfPatientID == "HOSP-A"
    assert rsp.PatientBirthDate == "19650412"
    assert rsp.PatientSex == "M"
    assert rsp.AccessionNumber == "ACC-0001"
    assert rsp.RequestedProcedureID == "RP-0001"
    assert rsp.RequestedProcedureDescription == "IMPORT OUTSIDE CT"
    assert rsp.StudyInstanceUID
    sps = rsp.ScheduledProcedureStepSequence[0]
    assert sps.Modality == "CT"
    assert sps.ScheduledStationAETitle == "KIOSK"
    assert sps.ScheduledProcedureStepStartDate == "20250102"
    assert sps.ScheduledProcedureStepStartTime == "093000"
    assert sps.ScheduledProcedureStepDescription == "IMPORT"
    assert sps.ScheduledProcedureStepID == "SPS-0001"
    assert sps.ScheduledProcedureStepLocation == "FRONT DESK 1"


def _mwl_query(**top: Any) -> Dataset:
    query = Dataset()
    for keyword in (
        "PatientName",
        "PatientID",
        "IssuerOfPatientID",
        "PatientBirthDate",
        "PatientSex",
        "AccessionNumber",
        "StudyInstanceUID",
        "RequestedProcedureID",
        "RequestedProcedureDescription",
    ):
        setattr(query, keyword, "")
    sps = Dataset()
    for keyword in (
        "Modality",
        "ScheduledStationAETitle",
        "ScheduledProcedureStepStartDate",
        "ScheduledProcedureStepStartTime",
        "ScheduledProcedureStepID",
        "ScheduledProcedureStepDescription",
        "ScheduledProcedureStepLocation",
    ):
        setattr(sps, keyword, "")
    query.ScheduledProcedureStepSequence = [sps]
    for keyword, value in top.items():
        setattr(query, keyword, value)
    return query


def mwl_find(server: WorklistServer, query: Dataset) -> list[Dataset]:
    ae = make_ae()
    ae.add_requested_context(ModalityWorklistInformationFind)
    assoc = associate(ae, server)
    results: list[Dataset] = []
    try:
        for status, identifier in assoc.send_c_find(query, ModalityWorklistInformationFind):
            assert status is not None and "Status" in status, "C-FIND got no status"
            if status.Status in (0xFF00, 0xFF01):
                assert identifier is not None
                results.append(identifier)
            else:
                assert status.Status == 0x0000, f"C-FIND failed: 0x{status.Status:04X}"
    finally:
        assoc.release()
    return results


def test_worklist_pynetdicom(worklist_server: WorklistServer) -> None:
    study_uid = generate_uid()
    worklist_server.add_item(
        PatientName=LATIN1_NAME,
        PatientID="P-LATIN1",
        AccessionNumber="ACC-0002",
        StudyInstanceUID=study_uid,
        Modality="MR",
        ScheduledProcedureStepID="SPS-0002",
    )
    worklist_server.add_item(PatientName="DOE^JOHN", PatientID="P-OTHER")

    everything = mwl_find(worklist_server, _mwl_query())
    assert sorted(ds.PatientID for ds in everything) == ["P-LATIN1", "P-OTHER"]

    # Matching on a key, without SpecificCharacterSet in the query: -csk still
    # returns the file's character set, so the Latin-1 name decodes correctly.
    (item,) = mwl_find(worklist_server, _mwl_query(PatientID="P-LATIN1"))
    assert item.SpecificCharacterSet == "ISO_IR 100"
    assert str(item.PatientName) == LATIN1_NAME
    assert item.AccessionNumber == "ACC-0002"
    assert item.StudyInstanceUID == study_uid
    assert item.IssuerOfPatientID == "HOSPITAL"
    sps = item.ScheduledProcedureStepSequence[0]
    assert sps.Modality == "MR"
    assert sps.ScheduledProcedureStepID == "SPS-0002"
    assert sps.ScheduledStationAETitle == "KIOSK"

    # Items added or removed while the server runs are seen by the next query.
    worklist_server.clear()
    assert mwl_find(worklist_server, _mwl_query()) == []


def test_worklist_strict_mode_rejects_incomplete_items(tmp_path: Path) -> None:
    with WorklistServer(tmp_path / "strict", ae_title="STRICTWL", reject_incomplete=True) as wl:
        wl.add_item(PatientID="P-COMPLETE")
        wl.add_item(PatientID="P-NO-SPS-ID", ScheduledProcedureStepID=None)
        found = mwl_find(wl, _mwl_query())
        assert [ds.PatientID for ds in found] == ["P-COMPLETE"]


def test_worklist_lenient_mode_serves_incomplete_items(worklist_server: WorklistServer) -> None:
    worklist_server.add_item(PatientID="P-NO-SPS-ID", ScheduledProcedureStepID=None)
    (found,) = mwl_find(worklist_server, _mwl_query())
    assert found.PatientID == "P-NO-SPS-ID"
    assert "ScheduledProcedureStepID" not in found.ScheduledProcedureStepSequence[0] or (
        found.ScheduledProcedureStepSequence[0].ScheduledProcedureStepID == ""
    )


def test_worklist_add_item_accepts_a_dataset(worklist_server: WorklistServer) -> None:
    ds = make_worklist_item(PatientName="ROE^RICHARD", PatientID="P-DS")
    worklist_server.add_item(ds)
    (found,) = mwl_find(worklist_server, _mwl_query())
    assert found.PatientID == "P-DS"


def test_worklist_echo(worklist_server: WorklistServer) -> None:
    result = run_dcmtk(
        [ECHOSCU, "-aec", worklist_server.ae_title, LOOPBACK, str(worklist_server.port)]
    )
    assert result.returncode == 0, result.stderr
    ae = make_ae()
    ae.add_requested_context(Verification)
    assoc = associate(ae, worklist_server)
    try:
        assert assoc.send_c_echo().Status == 0x0000
    finally:
        assoc.release()


# --------------------------------------------------------------------------
# Storage (storescp)
# --------------------------------------------------------------------------


def storescu(
    server: StorageServer | OrthancServer, *files: Path, extra: Sequence[str] = ()
) -> subprocess.CompletedProcess[str]:
    return run_dcmtk(
        [
            STORESCU,
            "-aet",
            "KIOSK",
            "-aec",
            server.ae_title,
            *extra,
            LOOPBACK,
            str(server.port),
            *map(str, files),
        ]
    )


def test_storescu_into_storage_server(storage_server: StorageServer, tmp_path: Path) -> None:
    ct = make_ct(PatientName=LATIN1_NAME)
    result = storescu(storage_server, save(ct, tmp_path / "ct.dcm"))
    assert result.returncode == 0, result.stdout + result.stderr

    (received,) = storage_server.wait_for_files(1)
    assert received.parent == storage_server.output_dir
    assert received.name == f"CT.{ct.SOPInstanceUID}"  # storescp default naming
    stored = dcmread(received)
    assert stored.SOPInstanceUID == ct.SOPInstanceUID
    assert str(stored.PatientName) == LATIN1_NAME
    assert np.array_equal(stored.pixel_array, ct.pixel_array)
    assert storage_server.received_sop_instance_uids() == {ct.SOPInstanceUID}


def test_storage_server_accepts_rle(storage_server: StorageServer) -> None:
    ct = make_rle_ct()
    assert c_store(storage_server, ct) == [0x0000]
    (received,) = storage_server.wait_for_files(1)
    stored = dcmread(received)
    assert stored.file_meta.TransferSyntaxUID == RLELossless
    assert np.array_equal(stored.pixel_array, make_ct().pixel_array)


def test_storage_server_sorted_by_study(tmp_path: Path) -> None:
    with StorageServer(tmp_path / "sorted", sort_by_study=True) as scp:
        ct = make_ct()
        assert c_store(scp, ct) == [0x0000]
        (received,) = scp.wait_for_files(1)
        assert received.parent.parent == scp.output_dir
        assert received.parent.name == f"study_{ct.StudyInstanceUID}"


def test_picky_storage_server_refuses_compressed(
    picky_storage_server: StorageServer, tmp_path: Path
) -> None:
    # Negotiation: one presentation context per transfer syntax.
    syntaxes = [RLELossless, JPEGBaseline8Bit, JPEG2000Lossless, ExplicitVRLittleEndian]
    ae = make_ae()
    for ts in syntaxes:
        ae.add_requested_context(CTImageStorage, [ts])
    assoc = associate(ae, picky_storage_server)
    try:
        # Context IDs are 1, 3, 5, 7 in the order proposed above.
        accepted = {cx.context_id: cx.transfer_syntax[0] for cx in assoc.accepted_contexts}
        rejected = sorted(cx.context_id or 0 for cx in assoc.rejected_contexts)
        assert accepted == {7: ExplicitVRLittleEndian}
        assert rejected == [1, 3, 5]  # RLE, JPEG baseline, JPEG 2000
        # pynetdicom will not send a dataset without an accepted context for its syntax.
        with pytest.raises(ValueError, match="presentation context"):
            assoc.send_c_store(make_rle_ct())
        assert assoc.send_c_store(make_ct()).Status == 0x0000
    finally:
        assoc.release()

    # DCMTK storescu cannot send the RLE file either (storescu does not decompress).
    rle_file = save(make_rle_ct(), tmp_path / "rle.dcm")
    result = storescu(picky_storage_server, rle_file, extra=["-xr"])
    assert result.returncode != 0
    assert len(picky_storage_server.wait_for_files(1)) == 1  # only the uncompressed one
    (stored,) = picky_storage_server.received_datasets()
    assert stored.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian


def test_storage_server_restart_on_same_port(storage_server: StorageServer) -> None:
    port = storage_server.port
    first = make_ct()
    assert c_store(storage_server, first) == [0x0000]

    storage_server.stop()
    assert not storage_server.running
    refused = run_dcmtk([ECHOSCU, "-to", "5", LOOPBACK, str(port)])
    assert refused.returncode != 0

    storage_server.start()
    assert storage_server.port == port
    second = make_ct()
    assert c_store(storage_server, second) == [0x0000]
    storage_server.wait_for_files(2)
    assert storage_server.received_sop_instance_uids() == {
        first.SOPInstanceUID,
        second.SOPInstanceUID,
    }

    # An abrupt outage (SIGKILL) and a restart work the same way.
    storage_server.stop(graceful=False)
    storage_server.start()
    assert storage_server.port == port
    assert c_store(storage_server, make_ct()) == [0x0000]
    assert len(storage_server.wait_for_files(3)) == 3


def test_storage_server_echo(storage_server: StorageServer) -> None:
    result = run_dcmtk(
        [ECHOSCU, "-aec", storage_server.ae_title, LOOPBACK, str(storage_server.port)]
    )
    assert result.returncode == 0, result.stderr


# --------------------------------------------------------------------------
# Orthanc
# --------------------------------------------------------------------------


def test_orthanc_configuration(orthanc_server: OrthancServer) -> None:
    system = orthanc_server.system()
    assert system["DicomAet"] == "ORTHANC"
    assert system["DicomPort"] == orthanc_server.port
    assert system["HttpPort"] == orthanc_server.http_port
    # No plugin from /usr/share/orthanc/plugins; "explorer.js" is Orthanc's own
    # extension point for the (disabled) Orthanc Explorer, always listed.
    assert set(orthanc_server.get_json("/plugins")) <= {"explorer.js"}
    kiosk = orthanc_server.modalities()["KIOSK"]
    assert kiosk["AET"] == "KIOSK"
    assert kiosk["Host"] == LOOPBACK
    assert kiosk["Port"] == orthanc_server.kiosk_port
    assert orthanc_server.instances() == []
    assert orthanc_server.study_count() == 0

    result = run_dcmtk([ECHOSCU, "-aec", "ORTHANC", LOOPBACK, str(orthanc_server.port)])
    assert result.returncode == 0, result.stderr


def test_orthanc_store_and_read_back(orthanc_server: OrthancServer, tmp_path: Path) -> None:
    plain = make_ct(PatientName=LATIN1_NAME, PatientID="EXT-9")
    rle = make_rle_ct(
        PatientName=LATIN1_NAME,
        PatientID="EXT-9",
        StudyInstanceUID=plain.StudyInstanceUID,
        SeriesInstanceUID=plain.SeriesInstanceUID,
        InstanceNumber=2,
    )
    result = storescu(orthanc_server, save(plain, tmp_path / "plain.dcm"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert c_store(orthanc_server, rle) == [0x0000]

    ids = orthanc_server.wait_for_instances(2)
    assert len(ids) == 2
    assert orthanc_server.study_count() == 1

    plain_id = orthanc_server.find_instance(plain.SOPInstanceUID)
    assert plain_id is not None and plain_id in ids
    tags = orthanc_server.instance_tags(plain_id)
    assert tags["SOPInstanceUID"] == plain.SOPInstanceUID
    assert tags["PatientName"] == LATIN1_NAME
    assert tags["PatientID"] == "EXT-9"
    assert tags["Modality"] == "CT"

    rle_id = orthanc_server.find_instance(rle.SOPInstanceUID)
    assert rle_id is not None
    stored = dcmread(DicomBytesIO(orthanc_server.instance_file(rle_id)))
    assert stored.SOPInstanceUID == rle.SOPInstanceUID
    assert stored.file_meta.TransferSyntaxUID == RLELossless
    assert np.array_equal(stored.pixel_array, plain.pixel_array)
    assert orthanc_server.find_instance(generate_uid()) is None


def test_orthanc_storage_commitment(orthanc_server: OrthancServer) -> None:
    """Orthanc answers N-ACTION and sends the report to the kiosk's declared port."""
    stored = make_ct()
    assert c_store(orthanc_server, stored) == [0x0000]
    missing_uid = generate_uid()

    reports: list[tuple[int, Dataset]] = []
    received = threading.Event()

    def on_event_report(event: evt.Event) -> tuple[int, None]:
        primitive = event.request
        assert isinstance(primitive, N_EVENT_REPORT)
        assert primitive.EventTypeID is not None
        reports.append((primitive.EventTypeID, event.event_information))
        received.set()
        return 0x0000, None

    kiosk = make_ae("KIOSK")
    # Orthanc opens a new association for the report and proposes the SCP role
    # for itself (SCP/SCU role selection: scu_role=False, scp_role=True).
    kiosk.add_supported_context(StorageCommitmentPushModel, scu_role=True, scp_role=True)
    listener = kiosk.start_server(
        (LOOPBACK, orthanc_server.kiosk_port),
        block=False,
        evt_handlers=[(evt.EVT_N_EVENT_REPORT, on_event_report)],
    )
    assert listener is not None
    try:
        request = Dataset()
        transaction_uid = generate_uid()
        request.TransactionUID = transaction_uid
        refs = []
        for sop_uid in (stored.SOPInstanceUID, missing_uid):
            ref = Dataset()
            ref.ReferencedSOPClassUID = CTImageStorage
            ref.ReferencedSOPInstanceUID = sop_uid
            refs.append(ref)
        request.ReferencedSOPSequence = refs

        requester = make_ae("KIOSK")
        requester.add_requested_context(StorageCommitmentPushModel)
        assoc = associate(requester, orthanc_server)
        try:
            status, _ = assoc.send_n_action(
                request, 1, StorageCommitmentPushModel, StorageCommitmentPushModelInstance
            )
            assert status is not None and status.Status == 0x0000
        finally:
            assoc.release()

        assert received.wait(20), f"no N-EVENT-REPORT:\n{orthanc_server.log_tail()}"
    finally:
        listener.shutdown()

    ((event_type, info),) = reports
    assert event_type == 2  # "complete - failure exists": one instance is unknown
    assert info.TransactionUID == transaction_uid
    assert [r.ReferencedSOPInstanceUID for r in info.ReferencedSOPSequence] == [
        stored.SOPInstanceUID
    ]
    assert [r.ReferencedSOPInstanceUID for r in info.FailedSOPSequence] == [missing_uid]


def test_orthanc_kiosk_port_can_change_at_run_time(orthanc_server: OrthancServer) -> None:
    new_port = free_port()
    orthanc_server.set_modality("KIOSK", "KIOSK", new_port)
    assert orthanc_server.kiosk_port == new_port
    assert orthanc_server.modalities()["KIOSK"]["Port"] == new_port


def test_orthanc_graceful_stop_keeps_data(tmp_path: Path) -> None:
    with OrthancServer(tmp_path / "persist") as orthanc:
        ct = make_ct()
        assert c_store(orthanc, ct) == [0x0000]
        orthanc.stop()
        orthanc.start()
        assert orthanc.find_instance(ct.SOPInstanceUID) is not None
        orthanc.reset()
        assert orthanc.instances() == []


def test_implicit_vr_is_fine_everywhere(
    storage_server: StorageServer, picky_storage_server: StorageServer
) -> None:
    for server in (storage_server, picky_storage_server):
        ae = make_ae()
        ae.add_requested_context(CTImageStorage, [ImplicitVRLittleEndian])
        assoc = associate(ae, server)
        try:
            ct = make_ct()
            ct.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
            assert assoc.send_c_store(ct).Status == 0x0000
        finally:
            assoc.release()
        wait_until(server.received_files, 10, what="a received file")

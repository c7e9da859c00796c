"""An A-ASSOCIATE-RJ as a typed error, the same for both C-STORE engines and pynetdicom.

The fields are those of PS3.8 9.3.4 (Table 9-21): *result* (1 rejected
permanent, 2 rejected transient), *source* (1 the service user, 2 the service
provider's ACSE, 3 its presentation layer) and *reason* (its meaning depends
on the source). Both the fast SCU (:mod:`kiosk.net.store`, from the PDU's
bytes) and pynetdicom (``assoc.acceptor.primitive``, the A-ASSOCIATE
primitive it received) hand the three numbers to :func:`association_rejected`.
"""

from __future__ import annotations

from kiosk.errors import AssociationRejected

PERMANENT = 1
TRANSIENT = 2

#: (source, reason) -> what it means (PS3.8 Table 9-21).
REASONS: dict[tuple[int, int], str] = {
    (1, 1): "no reason given",
    (1, 2): "application context name not supported",
    (1, 3): "calling AE title not recognized",
    (1, 7): "called AE title not recognized",
    (2, 1): "no reason given",
    (2, 2): "protocol version not supported",
    (3, 1): "busy (temporary congestion)",
    (3, 2): "no resources (local limit exceeded)",
}


def association_rejected(
    result: int,
    source: int,
    reason: int,
    *,
    role: str,
    where: str,
    calling_ae: str,
    called_ae: str,
) -> AssociationRejected:
    """Return the typed error for an A-ASSOCIATE-RJ, with one line saying what to do.

    Parameters
    ----------
    result, source, reason
        The A-ASSOCIATE-RJ fields, as received (hostile: any byte value).
    role, where
        Who the peer is ("Radiology PACS") and its address, for the message.
    calling_ae, called_ae
        Our AE title and the one we asked for.
    """
    meaning = REASONS.get((source, reason), f"reason {reason} from source {source}")
    if result == TRANSIENT:
        todo = "will retry"
    elif (source, reason) == (1, 3):
        todo = f"add our AE title {calling_ae!r} to the {role}"
    elif (source, reason) == (1, 7):
        todo = f"check the ae_title {called_ae!r} in the config: the {role} has another"
    elif source == 3:
        todo = f"the {role} says it will not take associations: ask its administrator"
    else:
        todo = f"check that the {role} knows our AE title {calling_ae!r}"
    kind = "temporarily" if result == TRANSIENT else "permanently"
    return AssociationRejected(
        f"the {role} {where} {kind} rejected the association: {meaning}: {todo}",
        result=result,
        source=source,
        reason=reason,
    )

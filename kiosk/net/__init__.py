"""The kiosk's DICOM network layer, written once.

- :mod:`kiosk.net.association`: association set-up through pynetdicom, TLS,
  timeouts and the one-line errors (echo, worklist and PACS C-FIND, storage
  commitment, the pynetdicom C-STORE engine);
- :mod:`kiosk.net.deadline`: a deadline for each PDU on pynetdicom's
  associations, so that a peer trickling its answer is cut off;
- :mod:`kiosk.net.keys`: an MRN or accession number as a C-FIND matching key,
  matched exactly (a value holding a wildcard or a list is refused);
- :mod:`kiosk.net.association_rejected`: an A-ASSOCIATE-RJ as a typed error
  (:class:`kiosk.errors.AssociationRejected`), the same for both engines;
- :mod:`kiosk.net.store`: the fast C-STORE SCU on a plain socket;
- :mod:`kiosk.net.pynetdicom_store`: the same interface on pynetdicom's C-STORE.
"""

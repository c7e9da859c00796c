"""Display pipeline: DICOM frames to 8-bit pixels, documents to pages and text (no Qt)."""

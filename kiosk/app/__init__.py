"""The application layer: one module per use case, on top of the services.

The command line (:mod:`kiosk.cli`) and the desktop window (``ui``) call only
this package (plus value types such as :class:`~kiosk.media.model.MediaScan`,
:class:`~kiosk.config.Config`, the errors and the progress events). Each use
case takes plain values and, where it reports progress, a
:data:`kiosk.progress.Listener`; it opens its own database connection from
the config, so it can run on any thread, and returns typed results.

=====================  ==============================================
module                 use case
=====================  ==============================================
``scan_disc``          read a medium; verify it (every image's header)
``find_patient``       worklist lookup, candidates with scores/reasons
``preflight``          before a send: what the destination holds
``import_disc``        import and send the chosen studies
``deliver_due``        deliver what is due; the outbox's state
``reconcile_study``    back office: attach an order to a stored study
``discard_study``      back office: never send a study, with a reason
``back_office``        back office: the queue, the corrections, resend
``check_connection``   C-ECHO a destination or the worklist
``housekeeping``       spool retention, the audit trail (verify, ATNA export, views)
``sign_in``            sign-in, sign-out, users and roles (rules: kiosk.access)
``export_study``       a de-identified copy of a study for teaching
``tagging``            a physician's tags, with who asked and why
``second_reads``       second reads for billing: states, CSV, HL7 over MLLP
``priors``             relevant priors for the chosen order, and what the PACS holds
``watch_media``        discs and drop-folder entries coming and going
``demo_session``       the embedded demo (peers on loopback, sample disc)
``attention``          which studies need a person (values, no I/O)
``values``             the value types the front ends may hold
=====================  ==============================================
"""

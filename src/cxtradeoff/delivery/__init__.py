"""Delivery: taking the reports a build made to the people who asked for them.

This layer comes after the pipeline. It reads what a build wrote into the reports
directory (``manifest.json`` and the rendered files) and never builds, renders or runs a
model itself; nothing in the pipeline or the analysis imports it. The command line
(``cxtradeoff.commands``) calls it and presents what it did.

Subpackages
-----------
email
    ``cxtradeoff email``: the PDFs with their headline numbers, over SMTP, each build to
    each recipient once (settings, message, transport, sent log, and the task that
    strings them together).
"""

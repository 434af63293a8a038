"""Hand-written helpers on top of the generated resources (issue 4, item 4).

Each module here subclasses a generated resource (``zbooks.resources.<module>``) and adds
the conveniences people reach for, with Zoho's quirks hidden; ``client.<module>``
resolves to the subclass, so every generated method stays available unchanged. Modules:
invoices, estimates, credit notes, contacts, items, customer payments, bills, vendor
payments and expenses. What they share is in ``_support``; typed values for filters the
OAS leaves as text are in ``filters``.

Nothing here is imported by ``import zbooks``: a module loads on first ``client.<name>``.
"""

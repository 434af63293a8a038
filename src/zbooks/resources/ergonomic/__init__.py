"""Hand-written helpers on top of the generated resources (issue 4, item 4).

Each module here subclasses a generated resource (``zbooks.resources.<module>``) and adds
the conveniences people reach for, with Zoho's quirks hidden; ``client.<module>``
resolves to the subclass, so every generated method stays available unchanged.
"""

"""va-guard: the VA standard as CrossGuard policies.

Imported as ``va_guard`` by the pack's ``__main__.py`` when the engine runs the pack, and as
``policies.va_guard`` by this repository's tests; modules here only use relative imports so both
work. ``standard.py``, ``catalogue.py`` and ``iam_catalogue.json`` are verbatim copies of the
component library's (``make vendor-standard``): the pack depends on nothing else of ours.
"""

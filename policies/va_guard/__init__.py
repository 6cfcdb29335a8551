"""va-guard: the VA standard as CrossGuard policies, and the conventions the components share.

Imported as ``policies.va_guard`` by the program and the tests, and as ``va_guard`` by the pack's
``__main__.py`` when the engine runs the pack; modules here only use relative imports so both work.
"""

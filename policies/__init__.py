"""The va-guard CrossGuard policy pack (``__main__.py``, ``va_guard/``), published on its own."""

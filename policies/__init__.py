"""The va-guard CrossGuard policy pack, and the VA conventions it shares with the components.

The engine runs this directory's ``__main__.py`` with the directory on ``sys.path``; the program
imports ``policies.conventions`` as a package. Both see the same pure functions.
"""

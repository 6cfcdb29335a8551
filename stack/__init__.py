"""The stack's side of the program: its configuration and the build steps that run before any
resource is registered. Only ``__main__.py`` (and the preflight, by path) uses it; components never
import it back.
"""

"""The Pulumi Cloud side of the VA platform, as a second Pulumi program (``pulumi up`` in org/).

It imports nothing of the main program: the platform's project and stack names are constants
here, and a test checks them against the program's ``Pulumi.yaml`` and stack files.
"""

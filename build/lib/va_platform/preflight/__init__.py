"""Run the Pulumi program without the Pulumi CLI or a cloud: mocks, a recorder and a runner.

Used by ``make plan``, the tests and the benchmarks, so all three see the same resources.
"""

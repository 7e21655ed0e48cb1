"""Storage boundary: keyed state and metric sinks.

``protocols`` defines the seams; ``in_memory`` implements them for tests and the harness;
``flink_state`` implements them over PyFlink keyed state (the only module here importing PyFlink).
Everything above this package codes against the protocols only.
"""

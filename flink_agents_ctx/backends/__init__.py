"""Storage boundary: keyed state and metric sinks.

``protocols`` defines the seams; ``flink_state`` implements them over PyFlink keyed state (the
only module here importing PyFlink); the in-memory fakes for tests are in
:mod:`flink_agents_ctx.testing.fakes`. Everything above this package codes against the protocols.
"""

"""The ``flink-agents-ctx`` command: run, submit and manage agent jobs (see ``--help``)."""

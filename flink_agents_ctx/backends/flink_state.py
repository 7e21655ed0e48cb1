"""Keyed-state backend over PyFlink state (the only storage module that imports PyFlink).

Values are stored with Flink's pickled-bytes serializer. Only checkpoint-stable values reach it
(memory validates them first), so the stored bytes do not depend on user classes.
"""

from __future__ import annotations

from typing import Any

from pyflink.common import Time, Types
from pyflink.datastream import RuntimeContext
from pyflink.datastream.state import MapStateDescriptor, StateTtlConfig, ValueStateDescriptor

from flink_agents_ctx.backends.protocols import MapStore, StateTtl, ValueStore


def _ttl_config(ttl: StateTtl) -> StateTtlConfig:
    builder = StateTtlConfig.new_builder(Time.milliseconds(ttl.ttl_ms))
    if ttl.update_type == "OnReadAndWrite":
        builder = builder.update_ttl_on_read_and_write()
    else:
        builder = builder.update_ttl_on_create_and_write()
    if ttl.visibility == "ReturnExpiredIfNotCleanedUp":
        builder = builder.return_expired_if_not_cleaned_up()
    else:
        builder = builder.never_return_expired()
    return builder.build()


class FlinkKeyedState:
    """Creates PyFlink keyed states from the function's runtime context."""

    def __init__(self, runtime_context: RuntimeContext) -> None:
        self._rc = runtime_context

    def map_state(self, name: str, ttl: StateTtl | None = None) -> MapStore:
        descriptor = MapStateDescriptor(name, Types.STRING(), Types.PICKLED_BYTE_ARRAY())
        if ttl is not None:
            descriptor.enable_time_to_live(_ttl_config(ttl))
        state: Any = self._rc.get_map_state(descriptor)
        return state  # type: ignore[no-any-return]

    def value_state(self, name: str) -> ValueStore:
        state: Any = self._rc.get_state(ValueStateDescriptor(name, Types.PICKLED_BYTE_ARRAY()))
        return state  # type: ignore[no-any-return]

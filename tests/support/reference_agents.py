"""Agents used by the reference scenarios, in harness tests and in mini-cluster jobs alike."""

from __future__ import annotations

from flink_agents_ctx import Agent, Event, InputEvent, OutputEvent, RunnerContext, action


class Middle(Event):
    value: int


class ReferenceAgent(Agent):
    """x -> short-term tmp = x + 1 -> Middle(x + 1) -> Output(tmp * 2)."""

    @action(InputEvent)
    @staticmethod
    def action1(event: InputEvent, ctx: RunnerContext) -> None:
        x = event.input[1] if isinstance(event.input, (tuple, list)) else event.input
        ctx.short_term_memory.set("tmp", x + 1)
        ctx.send_event(Middle(value=x + 1))

    @staticmethod
    @action(Middle)
    def action2(event: Middle, ctx: RunnerContext) -> None:
        tmp = ctx.short_term_memory.get("tmp")
        ctx.send_event(OutputEvent(output=tmp * 2))


class Noted(Event):
    ref: dict


class SensoryAgent(Agent):
    """Action 1 writes sensory memory and passes a ref; action 2 reads it, counts inputs in
    short-term memory and reports whether sensory memory was empty when the run started."""

    @action(InputEvent)
    @staticmethod
    def remember(event: InputEvent, ctx: RunnerContext) -> None:
        empty_at_start = ctx.sensory_memory.get_field_names() == []
        value = event.input[1] if isinstance(event.input, (tuple, list)) else event.input
        ref = ctx.sensory_memory.set("scratch.value", value)
        ctx.sensory_memory.set("scratch.empty_at_start", empty_at_start)
        ctx.send_event(Noted(ref=ref.to_dict()))

    @action(Noted)
    @staticmethod
    def report(event: Noted, ctx: RunnerContext) -> None:
        from flink_agents_ctx import MemoryRef

        value = ctx.sensory_memory.get(MemoryRef.from_dict(event.ref))
        seen = (ctx.short_term_memory.get("seen") or 0) + 1
        ctx.short_term_memory.set("seen", seen)
        empty = ctx.sensory_memory.get("scratch.empty_at_start")
        ctx.send_event(OutputEvent(output=f"{value}:{seen}:{empty}"))


class TtlAgent(Agent):
    """Inputs are commands: "set" writes a small tree, "wait" sleeps 1.5 s, "read" outputs what
    is visible, "touch" writes a sibling (refreshing only the root's entry)."""

    @action(InputEvent)
    @staticmethod
    def command(event: InputEvent, ctx: RunnerContext) -> None:
        import time

        command = event.input[1]
        memory = ctx.short_term_memory
        if command == "set":
            memory.set("a.b", 1)
        elif command == "touch":
            memory.set("c", 2)
        elif command == "wait":
            time.sleep(1.5)
        elif command == "read":
            names = ",".join(memory.get_field_names())
            ctx.send_event(OutputEvent(output=f"{names}|{memory.is_exist('a.b')}"))

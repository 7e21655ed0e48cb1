"""Quickstart: a two-action agent on a local Flink mini-cluster, with embedded long-term memory.

Each input is (customer, message). The first action files the message under a topic and counts the
customer's tickets in short-term memory (kept in Flink keyed state across inputs); the second action
looks for a similar earlier ticket of the customer in long-term memory (embedded Qdrant, searched
by meaning), remembers this one, and writes the reply that leaves the operator.

    ./dev quickstart                      # or: .venv/bin/python jobs/quickstart.py
"""

from __future__ import annotations

from pyflink.common import Types
from pyflink.datastream import StreamExecutionEnvironment

from flink_agents_ctx import (
    Agent,
    AgentsExecutionEnvironment,
    Event,
    InputEvent,
    OutputEvent,
    RunnerContext,
    action,
)

TOPICS = {"invoice": "billing", "refund": "billing", "password": "account", "login": "account"}


class Filed(Event):
    customer: str
    topic: str
    message: str


class SupportAgent(Agent):
    @action(InputEvent)
    @staticmethod
    def file_ticket(event: InputEvent, ctx: RunnerContext) -> None:
        customer, message = event.input
        topic = next((t for word, t in TOPICS.items() if word in message.lower()), "general")
        tickets = ctx.short_term_memory.get("tickets") or 0
        ctx.short_term_memory.set("tickets", tickets + 1)
        ctx.short_term_memory.set(f"topics.{topic}", True)
        ctx.send_event(Filed(customer=customer, topic=topic, message=message))

    @action(Filed)
    @staticmethod
    def reply(event: Filed, ctx: RunnerContext) -> None:
        tickets = ctx.short_term_memory.get("tickets")
        topics = ctx.short_term_memory.get("topics").get_field_names()
        history = ctx.long_term_memory.get_memory_set("tickets")
        similar = history.search(event.message, limit=1, score_threshold=0.3)
        history.add([event.message])
        like = f"; like earlier: {similar[0].value!r}" if similar else ""
        ctx.send_event(
            OutputEvent(
                output=f"{event.customer}: ticket #{tickets} filed under {event.topic} "
                f"(topics so far: {', '.join(topics)}){like}"
            )
        )


def main() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)
    messages = [
        ("ada", "I cannot find my invoice"),
        ("bob", "Password reset link expired"),
        ("ada", "Please refund the double charge on my invoice"),
        ("ada", "Login fails on mobile"),
        ("bob", "The password reset link expired again"),
    ]
    stream = env.from_collection(messages, type_info=Types.TUPLE([Types.STRING(), Types.STRING()]))
    # Long-term memory in embedded Qdrant (":memory:", the default location).
    agents_env = AgentsExecutionEnvironment.get_execution_environment(
        env, {"long-term-memory.backend": "qdrant"}
    )
    replies = (
        agents_env.from_datastream(stream, key_selector=lambda m: m[0])
        .apply(SupportAgent())
        .to_datastream(output_type=Types.STRING())
    )
    with replies.execute_and_collect("quickstart") as results:
        for line in results:
            print(line)


if __name__ == "__main__":
    main()

"""Support-ticket triage: classify each ticket, escalate repeat problems, draft a reply.

Input: JSON lines of tickets (``{"id", "customer", "subject", "body"}``, see
``jobs/data/tickets.jsonl``), or ``--generate N`` synthetic ones. Keyed by customer:

- ``classify`` asks the triage model for the ticket's category (a durable call: after a failure the
  job does not ask again for an answer it already had), counts the customer's tickets per category
  in short-term memory (Flink keyed state), and escalates the third ticket of one category.
- ``respond`` looks for a similar earlier ticket of the customer in long-term memory (embedded
  Qdrant by default), remembers this one, and asks the model for a reply (durable too).

Outputs are JSON lines written by an exactly-once FileSink (files are committed with each
checkpoint). The model is the ``triage_model`` resource: a local rule-based one by default, so the
job runs offline, or any OpenAI-compatible server with ``--model-url``.

    ./dev run jobs/ticket_triage.py                      # local mini-cluster, live progress
    .venv/bin/python jobs/ticket_triage.py --output out  # the same without the progress line
    flink run -py jobs/ticket_triage.py --input /data/tickets.jsonl --output /data/triage
    ./dev run jobs/ticket_triage.py --model-url http://127.0.0.1:11434/v1 --model llama3.2
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from pyflink.common import Configuration, Types, WatermarkStrategy
from pyflink.common.serialization import Encoder
from pyflink.datastream import StreamExecutionEnvironment
from pyflink.datastream.connectors.file_system import (
    FileSink,
    FileSource,
    RollingPolicy,
    StreamFormat,
)
from pyflink.datastream.connectors.number_seq import NumberSequenceSource

from flink_agents_ctx import (
    Agent,
    AgentsExecutionEnvironment,
    Event,
    InputEvent,
    OutputEvent,
    ResourceContext,
    ResourceType,
    RunnerContext,
    action,
    output_dir,
)
from flink_agents_ctx.resources.chat_models import (
    ChatModel,
    OpenAICompatibleChatModel,
    RuleBasedChatModel,
)

CATEGORIES = ("billing", "account", "outage", "shipping", "general")
ESCALATE_AFTER = 3  # the third ticket of one category from one customer is escalated
DATA = Path(__file__).parent / "data" / "tickets.jsonl"

# The offline stand-in for a model: keyword rules for classifying, templates for replies.
CLASSIFY_RULES = [
    (r"^classify:.*\b(invoice|refund|charged?|payment|vat|billing)\b", "billing"),
    (r"^classify:.*\b(password|login|two-factor|locked|account)\b", "account"),
    (r"^classify:.*\b(down|outage|error 50\d|500|503|504)\b", "outage"),
    (r"^classify:.*\b(deliver\w*|parcel|tracking|ship|return label)\b", "shipping"),
]
REPLY_RULES = [
    (
        r"^reply: category=(\w+) priority=high",
        r"This is your third \1 issue in a row, so a senior specialist takes it over now and "
        r"will call you today.",
    ),
    (
        r"^reply: category=outage",
        "We are aware of the problem and our engineers are on it; follow the status page.",
    ),
    (r"^reply: category=(\w+) .*similar=yes", r"Thanks, we added this to your open \1 case."),
    (r"^reply: category=(\w+)", r"Thanks for reaching out, our \1 team will answer within a day."),
]
MODEL_RULES = [*CLASSIFY_RULES, (r"^classify:", "general"), *REPLY_RULES]
SYSTEM_CLASSIFY = (
    "You triage customer support tickets. Answer with one word, the category: "
    + ", ".join(CATEGORIES)
    + "."
)
SYSTEM_REPLY = "You write a short, friendly first reply (one or two sentences) to a support ticket."


def triage_model(resources: ResourceContext) -> ChatModel:
    """The model behind both actions: an OpenAI-compatible server when ``triage.model-url`` is
    set, else the local rules."""
    url = resources.config.get_str("triage.model-url")
    if url:
        return OpenAICompatibleChatModel(
            url,
            resources.config.get_str("triage.model") or "llama3.2",
            api_key=os.environ.get("OPENAI_API_KEY"),
        )
    return RuleBasedChatModel(MODEL_RULES, default="Thanks, we will get back to you.")


class Classified(Event):
    ticket: dict[str, str]
    category: str
    priority: str


class TriageAgent(Agent):
    @action(InputEvent)
    @staticmethod
    def classify(event: InputEvent, ctx: RunnerContext) -> None:
        ticket = event.input
        model = ctx.get_resource("triage_model", ResourceType.CHAT_MODEL)
        text = f"{ticket['subject']}. {ticket['body']}"
        answer = ctx.durable_execute(
            model.chat,
            [
                {"role": "system", "content": SYSTEM_CLASSIFY},
                {"role": "user", "content": f"classify: {text}"},
            ],
        )
        category = next((c for c in CATEGORIES if c in answer.lower()), "general")
        memory = ctx.short_term_memory
        seen = (memory.get(f"categories.{category}") or 0) + 1
        memory.set(f"categories.{category}", seen)
        memory.set("tickets", (memory.get("tickets") or 0) + 1)
        priority = "high" if seen >= ESCALATE_AFTER else "normal"
        if priority == "high":
            ctx.action_metric_group.get_counter("escalations").inc()
        ctx.send_event(Classified(ticket=ticket, category=category, priority=priority))

    @action(Classified)
    @staticmethod
    def respond(event: Classified, ctx: RunnerContext) -> None:
        ticket = event.ticket
        text = f"{ticket['subject']}. {ticket['body']}"
        history = ctx.long_term_memory.get_memory_set("tickets")
        similar = history.search(text, limit=1, score_threshold=0.35)
        history.add([text], metadatas=[{"ticket": ticket["id"]}], ids=[ticket["id"]])
        model = ctx.get_resource("triage_model", ResourceType.CHAT_MODEL)
        reply = ctx.durable_execute(
            model.chat,
            [
                {"role": "system", "content": SYSTEM_REPLY},
                {
                    "role": "user",
                    "content": f"reply: category={event.category} priority={event.priority} "
                    f"similar={'yes' if similar else 'no'}: {text}",
                },
            ],
        )
        result = {
            "ticket": ticket["id"],
            "customer": ticket["customer"],
            "category": event.category,
            "priority": event.priority,
            "tickets_so_far": ctx.short_term_memory.get("tickets"),
            "similar_to": similar[0].metadata.get("ticket") if similar else None,
            "reply": reply.strip(),
        }
        ctx.send_event(OutputEvent(output=json.dumps(result, sort_keys=True)))


def synthetic_ticket(n: int) -> dict[str, str]:
    """Ticket ``n`` of ``--generate``: 50 customers, subjects from the sample file's kinds."""
    kinds = [
        ("Invoice missing", "I cannot find invoice {n} in the portal."),
        ("Login fails", "Login fails with 'invalid session' (attempt {n})."),
        ("Dashboard down", "The dashboard answers error 503 (report {n})."),
        ("Parcel late", "Delivery {n} has no tracking update."),
        ("Question", "Can we export report {n} as CSV?"),
    ]
    subject, body = kinds[(n * 7) % len(kinds)]
    return {
        "id": f"G-{n}",
        "customer": f"customer-{n % 50}",
        "subject": subject,
        "body": body.format(n=n),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--input", type=Path, default=DATA, help="JSON lines of tickets")
    parser.add_argument("--generate", type=int, help="use N synthetic tickets instead of --input")
    parser.add_argument(
        "--rate", type=float, help="with --generate: at most this many tickets per second"
    )
    parser.add_argument("--output", type=Path, default=None, help="directory for the outputs")
    parser.add_argument("--model-url", help="an OpenAI-compatible API root (default: local rules)")
    parser.add_argument("--model", default="llama3.2", help="the model name for --model-url")
    parser.add_argument("--qdrant", default=":memory:", help="long-term memory's Qdrant location")
    parser.add_argument("--parallelism", type=int, default=1)
    args = parser.parse_args(argv)
    output = (args.output or output_dir("ticket_triage")).absolute()

    conf = Configuration()
    # The FileSink commits its files with each checkpoint, so the job checkpoints.
    conf.set_string("execution.checkpointing.interval", "2 s")
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    env.set_parallelism(args.parallelism)
    if args.generate:
        numbers = env.from_source(
            NumberSequenceSource(0, args.generate - 1), WatermarkStrategy.no_watermarks(), "gen"
        )
        pause_s = 1 / args.rate if args.rate else 0.0

        def generate(n: int) -> dict[str, str]:
            if pause_s:
                time.sleep(pause_s)
            return synthetic_ticket(n)

        tickets = numbers.map(generate, output_type=Types.PICKLED_BYTE_ARRAY())
    else:
        source = FileSource.for_record_stream_format(
            StreamFormat.text_line_format(), str(args.input.absolute())
        ).build()
        lines = env.from_source(source, WatermarkStrategy.no_watermarks(), "tickets")
        tickets = lines.filter(lambda line: bool(line.strip())).map(
            json.loads, output_type=Types.PICKLED_BYTE_ARRAY()
        )
    agent_config: dict[str, Any] = {
        "job-identifier": "ticket-triage",
        "long-term-memory.backend": "qdrant",
        "long-term-memory.qdrant.location": args.qdrant,
    }
    if args.model_url:
        agent_config["triage.model-url"] = args.model_url
        agent_config["triage.model"] = args.model
    agent = TriageAgent().add_resource("triage_model", ResourceType.CHAT_MODEL, triage_model)
    replies = (
        AgentsExecutionEnvironment.get_execution_environment(env, agent_config)
        .from_datastream(tickets, key_selector=lambda t: t["customer"])
        .apply(agent)
        .to_datastream(output_type=Types.STRING(), name="ticket-triage")
    )
    replies.sink_to(
        FileSink.for_row_format(str(output), Encoder.simple_string_encoder())
        .with_rolling_policy(RollingPolicy.on_checkpoint_rolling_policy())
        .build()
    )
    env.execute("ticket-triage")
    print(f"ticket-triage: outputs in {output}")


if __name__ == "__main__":
    main()

"""Long-term memory on embedded Qdrant (``:memory:``) with the default HashingEmbedder.

Measures, in one process (no Flink job):
  (a) embedding alone: texts/s of the HashingEmbedder (384 dimensions);
  (b) adds: ``MemorySet.add`` of one item at a time and of batches of 100, items/s, until
      ``--items`` items are stored over ``--keys`` keys;
  (c) searches: ``MemorySet.search`` (the library's isolation filter on job, key and set) against
      an unfiltered ``QdrantVectorStore.search`` over the same collection and the same query
      vectors: searches/s and the ratio (the cost of isolation).

usage: ./dev bench long_term_memory [--items N] [--keys K] [--searches S]
"""

from __future__ import annotations

import argparse
import random
import time
import uuid

from flink_agents_ctx.long_term.embedders import HashingEmbedder
from flink_agents_ctx.long_term.memory import LongTermMemory, LongTermMemorySettings
from flink_agents_ctx.long_term.vector_store import QdrantVectorStore

WORDS = (
    "printer tray paper jam refund card vpn laptop shipping parcel password reset app crash photo "
    "invoice billing coffee kitchen email phone sensor warehouse temperature library fine api "
    "limit meeting projector battery firmware cafeteria lunch driver barcode subscription "
    "cancellation network router firewall disk backup database query latency cache"
).split()


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 12)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--keys", type=int, default=10)
    parser.add_argument("--searches", type=int, default=500)
    args = parser.parse_args()
    rng = random.Random(7)
    texts = [f"{i} {sentence(rng)}" for i in range(args.items)]
    queries = [sentence(rng) for _ in range(args.searches)]
    embedder = HashingEmbedder()

    started = time.perf_counter()
    embedder.embed(texts[:2000])
    embed_rate = 2000 / (time.perf_counter() - started)
    print(f"(a) HashingEmbedder: {embed_rate:,.0f} texts/s")

    settings = LongTermMemorySettings(collection=f"bench_{uuid.uuid4().hex[:8]}", job="bench")
    memory = LongTermMemory(settings, lambda: QdrantVectorStore(":memory:", embedder))
    sets = [memory.for_key(f"key-{k}").get_memory_set("facts") for k in range(args.keys)]
    singles = min(1000, args.items // 2)
    started = time.perf_counter()
    for i in range(singles):
        sets[i % args.keys].add([texts[i]])
    single_rate = singles / (time.perf_counter() - started)
    started = time.perf_counter()
    batch = 100
    for start in range(singles, args.items, batch):
        chunk = texts[start : start + batch]
        sets[(start // batch) % args.keys].add(chunk)
    batch_rate = (args.items - singles) / (time.perf_counter() - started)
    print(f"(b) adds, one item per call: {single_rate:,.0f} items/s")
    print(f"(b) adds, {batch} items per call: {batch_rate:,.0f} items/s")
    store = memory.store
    print(f"    stored {store.count(settings.collection):,} items over {args.keys} keys")

    vectors = embedder.embed(queries)
    rounds = 2
    filtered_best = plain_best = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        for i, q in enumerate(queries):
            sets[i % args.keys].search(q, limit=10)
        filtered_best = max(filtered_best, len(queries) / (time.perf_counter() - started))
        started = time.perf_counter()
        for v in vectors:
            store.search(settings.collection, v, 10, [])
        # The isolated search also embeds its query: add the embedding time to the plain one.
        plain_s = time.perf_counter() - started + len(queries) / embed_rate
        plain_best = max(plain_best, len(queries) / plain_s)
    print(f"(c) search with isolation filters: {filtered_best:,.0f} searches/s")
    print(f"(c) search without filters:        {plain_best:,.0f} searches/s")
    print(f"    isolation cost: filtered/unfiltered = {filtered_best / plain_best:.2f}")


if __name__ == "__main__":
    main()

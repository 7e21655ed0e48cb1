package flinkagentsctx.examples;

import flinkagentsctx.api.Action;
import flinkagentsctx.api.Event;
import flinkagentsctx.api.MemoryObject;
import flinkagentsctx.api.RunnerContext;
import java.util.List;

/**
 * The benchmark's one-action agent in Java: per input (key, amount) a short-term counter and two
 * more memory writes, and one output, as {@code bench/java_bridge.py}'s Python action does.
 */
public final class Counting implements Action {
    @Override
    public void execute(Event event, RunnerContext ctx) {
        MemoryObject memory = ctx.getShortTermMemory();
        Object count = memory.get("count");
        long n = (count == null ? 0L : (Long) count) + 1;
        memory.set("count", n);
        Object old = memory.get("x");
        long x = (old == null ? 0L : (Long) old) + (Long) ((List<?>) event.get("input")).get(1);
        memory.set("x", x);
        memory.set("y", n);
        ctx.sendEvent(Event.output(x));
    }
}

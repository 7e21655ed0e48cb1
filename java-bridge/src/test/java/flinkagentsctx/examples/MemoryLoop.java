package flinkagentsctx.examples;

import flinkagentsctx.api.Action;
import flinkagentsctx.api.Event;
import flinkagentsctx.api.MemoryObject;
import flinkagentsctx.api.RunnerContext;

/**
 * Times bridged memory calls: per input, {@code loops} (an action setting) pairs of sensory
 * memory set and get, timed with {@code System.nanoTime}; outputs the nanoseconds they took.
 */
public final class MemoryLoop implements Action {
    @Override
    public void execute(Event event, RunnerContext ctx) {
        long loops = (Long) ctx.getActionConfigValue("loops");
        MemoryObject memory = ctx.getSensoryMemory();
        long started = System.nanoTime();
        for (long i = 0; i < loops; i++) {
            memory.set("v", i);
            memory.get("v");
        }
        ctx.sendEvent(Event.output(System.nanoTime() - started));
    }
}

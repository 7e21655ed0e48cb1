package flinkagentsctx.examples;

import flinkagentsctx.api.Action;
import flinkagentsctx.api.Event;
import flinkagentsctx.api.RunnerContext;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Misuses the bridge on purpose, as its input says: {@code "thread"} touches memory from another
 * thread and emits what that thread got; {@code "throw"} throws.
 */
public final class Misbehaving implements Action {
    @Override
    public void execute(Event event, RunnerContext ctx) throws Exception {
        Object input = event.get("what");
        if ("throw".equals(input)) {
            throw new IllegalStateException("rules engine is not loaded");
        }
        AtomicReference<Throwable> got = new AtomicReference<>();
        Thread worker =
                new Thread(
                        () -> {
                            try {
                                ctx.getShortTermMemory().set("x", 1L);
                            } catch (Throwable t) {
                                got.set(t);
                            }
                        },
                        "rules-worker");
        worker.start();
        worker.join();
        Throwable t = got.get();
        ctx.sendEvent(Event.output(t == null ? "no error" : t.getClass().getName() + ": " + t.getMessage()));
    }
}

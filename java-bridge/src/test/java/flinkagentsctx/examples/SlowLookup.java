package flinkagentsctx.examples;

import flinkagentsctx.api.Action;
import flinkagentsctx.api.DurableCallable;
import flinkagentsctx.api.Event;
import flinkagentsctx.api.RunnerContext;
import java.util.Arrays;
import java.util.List;

/**
 * Awaits one slow lookup per input ({@code durableExecuteAsync}, sleeping {@code millis} ms, an
 * action setting) and emits {@code [key, n, n * 2, java version]}: suspended on JDK 21, a
 * synchronous call on JDK 17.
 */
public final class SlowLookup implements Action {
    @Override
    public void execute(Event event, RunnerContext ctx) {
        List<?> input = (List<?>) event.get("input");
        long n = (Long) input.get(1);
        long millis = (Long) ctx.getActionConfigValue("millis");
        Long doubled =
                ctx.durableExecuteAsync(
                        new DurableCallable<Long>() {
                            @Override
                            public String getId() {
                                return "lookup";
                            }

                            @Override
                            public Long call() throws InterruptedException {
                                Thread.sleep(millis);
                                return n * 2;
                            }
                        });
        ctx.sendEvent(
                Event.output(
                        Arrays.asList(input.get(0), n, doubled, System.getProperty("java.version"))));
    }
}

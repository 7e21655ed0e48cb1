package flinkagentsctx.examples;

import flinkagentsctx.api.Action;
import flinkagentsctx.api.DurableCallable;
import flinkagentsctx.api.Event;
import flinkagentsctx.api.RunnerContext;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Scores a number with a durable call that appends the number to a call log (action setting
 * {@code call_log}), so a test can count how often each call was really made.
 */
public final class DurableScore implements Action {
    @Override
    public void execute(Event event, RunnerContext ctx) {
        long n = (Long) event.get("n");
        String log = (String) ctx.getActionConfigValue("call_log");
        Long score =
                ctx.durableExecute(
                        new DurableCallable<Long>() {
                            @Override
                            public String getId() {
                                return "score";
                            }

                            @Override
                            public Long call() throws IOException {
                                Files.write(
                                        Paths.get(log),
                                        (n + "\n").getBytes(StandardCharsets.UTF_8),
                                        StandardOpenOption.CREATE,
                                        StandardOpenOption.APPEND);
                                return n * 10;
                            }
                        });
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("n", n);
        fields.put("score", score);
        ctx.sendEvent(new Event("Scored", fields));
    }
}

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
 * Two async calls per input: a quick one ({@code A}) and a slow one ({@code B}, {@code millis}
 * ms), each logging {@code "A n"} / {@code "B n"} to {@code call_log} when it starts; sends
 * {@code Scored(n, (n + 1) + 2n)}. On JDK 21 the action is suspended on each call, so checkpoints
 * catch actions waiting on B with A recorded.
 */
public final class TwoStep implements Action {
    private static Long logged(String log, String line, long value) throws IOException {
        Files.write(
                Paths.get(log),
                (line + "\n").getBytes(StandardCharsets.UTF_8),
                StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        return value;
    }

    @Override
    public void execute(Event event, RunnerContext ctx) {
        long n = (Long) event.get("n");
        String log = (String) ctx.getActionConfigValue("call_log");
        long millis = (Long) ctx.getActionConfigValue("millis");
        Long a =
                ctx.durableExecuteAsync(
                        new DurableCallable<Long>() {
                            public String getId() {
                                return "A";
                            }

                            public Long call() throws IOException {
                                return logged(log, "A " + n, n + 1);
                            }
                        });
        Long b =
                ctx.durableExecuteAsync(
                        new DurableCallable<Long>() {
                            public String getId() {
                                return "B";
                            }

                            public Long call() throws IOException, InterruptedException {
                                Long value = logged(log, "B " + n, 2 * n);
                                Thread.sleep(millis);
                                return value;
                            }
                        });
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("n", n);
        fields.put("score", a + b);
        ctx.sendEvent(new Event("Scored", fields));
    }
}

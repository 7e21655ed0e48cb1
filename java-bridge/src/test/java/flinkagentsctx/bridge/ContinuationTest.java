package flinkagentsctx.bridge;

import flinkagentsctx.api.Action;
import flinkagentsctx.api.DurableCallException;
import flinkagentsctx.api.DurableCallable;
import flinkagentsctx.api.Event;
import flinkagentsctx.api.RunnerContext;
import flinkagentsctx.testing.Check;
import java.util.ArrayList;
import java.util.List;

/**
 * Suspending Java actions on {@code durableExecuteAsync}. On JDK 21 (with the JVM option) the
 * action yields and resumes with the call's answer; on JDK 17 it makes the call synchronously.
 */
public class ContinuationTest {
    private static final String EVENT =
            "{\"type\":\"flink_agents_ctx.events.InputEvent\",\"id\":\"i-1\",\"source_timestamp\":null,"
                    + "\"fields\":{\"input\":3}}";

    static final List<String> LOG = new ArrayList<>();

    /** Awaits two async calls, then sends their sum. */
    public static final class TwoCalls implements Action {
        @Override
        public void execute(Event event, RunnerContext ctx) {
            long input = (Long) event.get("input");
            LOG.add("start");
            Long a = ctx.durableExecuteAsync(call("a", () -> input * 10));
            LOG.add("a=" + a);
            Long b;
            try {
                b = ctx.durableExecuteAsync(call("b", () -> {
                    throw new java.io.IOException("b failed");
                }));
            } catch (DurableCallException e) {
                LOG.add("b threw " + e.getFailureClass());
                b = 1L;
            }
            ctx.sendEvent(Event.output(a + b));
        }
    }

    interface Body {
        Long run() throws Exception;
    }

    static DurableCallable<Long> call(String id, Body body) {
        return new DurableCallable<Long>() {
            public String getId() {
                return id;
            }

            public Long call() throws Exception {
                return body.run();
            }
        };
    }

    private static String waitForCompleted(ActionHost host) throws InterruptedException {
        for (int i = 0; i < 500; i++) {
            String done = host.takeCompleted();
            if (!done.equals("[]")) {
                return done;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("no async call ended within 5 s");
    }

    public void testActionSuspendsOnAsyncCallsAndResumesWithTheirAnswers() throws Exception {
        LOG.clear();
        FakePort port = new FakePort();
        ActionHost host = new ActionHost();
        String facts = host.openPort(port, Wire.VERSION, 2);
        Check.equal("", host.load("two", TwoCalls.class.getName(), "{}"));
        if (!Continuations.available()) {
            Check.contains(facts, "\"continuations\":false");
            Check.contains(host.start(1, "two", EVENT), "run the TaskManager on JDK 21");
            return;
        }
        Check.contains(facts, "\"continuations\":true");
        port.answer("~"); // call a: not in the journal, start it
        Check.equal("~", host.start(7, "two", EVENT));
        Check.equal(List.of("start"), LOG);
        Check.equal(List.of("durable_execute_async[a, 0]"), port.calls);
        String done = waitForCompleted(host);
        Check.equal("[[0,\"=30\"]]", done);
        port.answer("~"); // call b
        Check.equal("~", host.resume(7, "=30"));
        Check.equal(List.of("start", "a=30"), LOG);
        String failed = waitForCompleted(host);
        Check.contains(failed, "java.io.IOException");
        port.answer("=null"); // send_event
        String b = "!{\"type\":\"JavaCallError\",\"message\":\"b failed\",\"class\":\"java.io.IOException\",\"stack\":\"\"}";
        Check.equal("", host.resume(7, b));
        Check.equal(List.of("start", "a=30", "b threw java.io.IOException"), LOG);
        Check.contains(port.calls.get(2), "send_event");
        Check.contains(port.calls.get(2), "\"output\":31");
        host.close();
    }

    public void testReplayedCallsDoNotSuspend() {
        if (!Continuations.available()) {
            return;
        }
        LOG.clear();
        FakePort port = new FakePort().answer("=30").answer("=5").answer("=null");
        ActionHost host = new ActionHost();
        host.openPort(port, Wire.VERSION, 1);
        host.load("two", TwoCalls.class.getName(), "{}");
        Check.equal("", host.start(1, "two", EVENT));
        Check.equal(List.of("start", "a=30"), LOG);
        Check.contains(port.calls.get(2), "\"output\":35");
    }

    public void testWithoutAContinuationAsyncCallsAreSynchronous() {
        LOG.clear();
        FakePort port = new FakePort();
        ActionHost host = new ActionHost();
        host.openPort(port, Wire.VERSION, 1);
        host.load("two", TwoCalls.class.getName(), "{}");
        port.answer(args -> host.runCallable((Long) args[1]));
        port.answer(args -> host.runCallable((Long) args[1]));
        port.answer("=null");
        Check.equal("", host.execute("two", EVENT));
        Check.equal(List.of("start", "a=30", "b threw java.io.IOException"), LOG);
        Check.equal("durable_execute[a, 0]", port.calls.get(0));
    }
}

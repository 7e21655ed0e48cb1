package flinkagentsctx.bridge;

import flinkagentsctx.api.Action;
import flinkagentsctx.api.AgentException;
import flinkagentsctx.api.DurableCallException;
import flinkagentsctx.api.DurableCallable;
import flinkagentsctx.api.Event;
import flinkagentsctx.api.MailboxException;
import flinkagentsctx.api.MemoryObject;
import flinkagentsctx.api.MemoryRef;
import flinkagentsctx.api.RunnerContext;
import flinkagentsctx.testing.Check;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

public class ActionHostTest {
    private static final String EVENT =
            "{\"type\":\"flink_agents_ctx.events.InputEvent\",\"id\":\"i-1\",\"source_timestamp\":null,"
                    + "\"fields\":{\"input\":\"hello\"}}";

    /** Hands each test the context and event it ran with. */
    public static final class Probe implements Action {
        static Body body;

        interface Body {
            void run(Event event, RunnerContext ctx) throws Exception;
        }

        @Override
        public void execute(Event event, RunnerContext ctx) throws Exception {
            body.run(event, ctx);
        }
    }

    private static ActionHost host(FakePort port) {
        ActionHost host = new ActionHost();
        Check.contains(host.openPort(port, Wire.VERSION, 2), "\"wire_version\":1");
        Check.equal("", host.load("probe", Probe.class.getName(), "{\"limit\":3}"));
        return host;
    }

    public void testOpenRefusesAnotherWireVersion() {
        String answer = new ActionHost().openPort(new FakePort(), 99, 2);
        Check.contains(answer, "!");
        Check.contains(answer, "BridgeVersionError");
        Check.contains(answer, "wire format 1 and the Python core 99");
    }

    public void testMissingClassNamesTheClassAndThePathSearched() {
        ActionHost host = new ActionHost();
        host.openPort(new FakePort(), Wire.VERSION, 2);
        String answer = host.load("x", "com.example.Missing", "{}");
        Check.contains(answer, "JavaClassNotFoundError");
        Check.contains(answer, "com.example.Missing");
        Check.contains(answer, "java.class.path=");
    }

    public void testClassThatIsNotAnActionIsRefused() {
        ActionHost host = new ActionHost();
        host.openPort(new FakePort(), Wire.VERSION, 2);
        Check.contains(host.load("x", "java.lang.String", "{}"), "does not implement");
    }

    public void testMemoryCallsGoToThePortAndAnswersAreDecoded() {
        FakePort port =
                new FakePort()
                        .answer("={\"$object\":{\"memory_type\":\"short_term\",\"path\":\"user\"}}")
                        .answer("=\"Ada\"")
                        .answer("={\"$ref\":{\"memory_type\":\"short_term\",\"path\":\"user.seen\"}}")
                        .answer("=[\"name\",\"seen\"]");
        ActionHost host = host(port);
        AtomicReference<Object> seen = new AtomicReference<>();
        Probe.body =
                (event, ctx) -> {
                    MemoryObject user = (MemoryObject) ctx.getShortTermMemory().get("user");
                    Check.equal("user", user.getPath());
                    seen.set(user.get("name"));
                    MemoryRef ref = user.set("seen", new byte[] {7});
                    Check.equal(new MemoryRef("short_term", "user.seen"), ref);
                    Check.equal(List.of("name", "seen"), user.getFieldNames());
                    Check.equal("hello", event.get("input"));
                    Check.equal(3L, ctx.getActionConfigValue("limit"));
                };
        Check.equal("", host.execute("probe", EVENT));
        Check.equal("Ada", seen.get());
        Check.equal(
                List.of(
                        "memory_get[short_term, , user]",
                        "memory_get[short_term, user, name]",
                        "memory_set[short_term, user, seen, {\"$bytes\":\"Bw==\"}]",
                        "memory_field_names[short_term, user]"),
                port.calls);
    }

    public void testCoreErrorsBecomeTypedExceptionsWithTheSameMessage() {
        FakePort port =
                new FakePort().answer("!{\"type\":\"MemoryPathError\",\"message\":\"'a' holds a value\"}");
        ActionHost host = host(port);
        Probe.body =
                (event, ctx) -> {
                    AgentException e =
                            Check.raises(
                                    AgentException.class, () -> ctx.getSensoryMemory().set("a.b", 1L));
                    Check.equal("MemoryPathError", e.getErrorType());
                    Check.equal("'a' holds a value", e.getMessage());
                };
        Check.equal("", host.execute("probe", EVENT));
    }

    public void testValueWithoutWireFormIsRefusedBeforeTheCore() {
        FakePort port = new FakePort();
        ActionHost host = host(port);
        Probe.body =
                (event, ctx) -> {
                    AgentException e =
                            Check.raises(
                                    AgentException.class,
                                    () -> ctx.getSensoryMemory().set("a", new Object()));
                    Check.equal("MemoryValueError", e.getErrorType());
                    Check.contains(e.getMessage(), "nothing was written");
                };
        Check.equal("", host.execute("probe", EVENT));
        Check.equal(List.of(), port.calls);
    }

    public void testActionExceptionIsAnsweredWithClassMessageAndStack() {
        ActionHost host = host(new FakePort());
        Probe.body =
                (event, ctx) -> {
                    throw new IllegalStateException("no rules for " + event.get("input"));
                };
        String answer = host.execute("probe", EVENT);
        Map<?, ?> error = (Map<?, ?>) Json.read(answer.substring(1));
        Check.equal("JavaActionError", error.get("type"));
        Check.equal("java.lang.IllegalStateException", error.get("class"));
        Check.equal("no rules for hello", error.get("message"));
        Check.contains((String) error.get("stack"), "ActionHostTest");
    }

    public void testOtherThreadAndLateUseGetTheMailboxError() throws Exception {
        ActionHost host = host(new FakePort());
        AtomicReference<RunnerContext> kept = new AtomicReference<>();
        AtomicReference<Throwable> fromThread = new AtomicReference<>();
        Probe.body =
                (event, ctx) -> {
                    kept.set(ctx);
                    Thread t =
                            new Thread(
                                    () -> {
                                        try {
                                            ctx.getShortTermMemory().get("x");
                                        } catch (Throwable e) {
                                            fromThread.set(e);
                                        }
                                    },
                                    "my-worker");
                    t.start();
                    t.join();
                };
        Check.equal("", host.execute("probe", EVENT));
        Check.isTrue(fromThread.get() instanceof MailboxException, "mailbox error: " + fromThread.get());
        Check.contains(fromThread.get().getMessage(), "from thread 'my-worker'");
        Check.equal("MailboxThreadError", ((AgentException) fromThread.get()).getErrorType());
        MailboxException late =
                Check.raises(MailboxException.class, () -> kept.get().sendEvent(Event.output(1L)));
        Check.contains(late.getMessage(), "after the action it belongs to returned");
    }

    public void testDurableCallIsMadeWhenTheCoreAsksAndItsOutcomeComesBack() {
        FakePort port = new FakePort();
        ActionHost host = host(port);
        // The core answers durable_execute by asking the host to make the call (a journal miss);
        // the host's answer is already in the answer format.
        port.answer(args -> host.runCallable((Long) args[1]));
        port.answer(args -> {
            String answer = host.runCallable((Long) args[1]);
            Check.isTrue(answer.startsWith("!"), "the failure is answered");
            Map<?, ?> error = (Map<?, ?>) Json.read(answer.substring(1));
            Check.equal("java.io.IOException", error.get("class"));
            return "!{\"type\":\"JavaCallError\",\"message\":\"disk gone\",\"class\":\"java.io.IOException\",\"stack\":\"s\"}";
        });
        Probe.body =
                (event, ctx) -> {
                    Object result =
                            ctx.durableExecute(
                                    new DurableCallable<Object>() {
                                        public String getId() {
                                            return "score";
                                        }

                                        public Object call() {
                                            return Map.of("score", 7);
                                        }
                                    });
                    Check.equal(Map.of("score", 7L), result);
                    DurableCallException e =
                            Check.raises(
                                    DurableCallException.class,
                                    () ->
                                            ctx.durableExecute(
                                                    new DurableCallable<Object>() {
                                                        public String getId() {
                                                            return "read";
                                                        }

                                                        public Object call() throws Exception {
                                                            throw new java.io.IOException("disk gone");
                                                        }
                                                    }));
                    Check.equal("java.io.IOException", e.getFailureClass());
                    Check.equal("disk gone", e.getFailureMessage());
                };
        Check.equal("", host.execute("probe", EVENT));
        Check.equal("durable_execute[score, 0]", port.calls.get(0));
        Check.equal("durable_execute[read, 1]", port.calls.get(1));
    }

    public void testDurableCallNeedsAnId() {
        ActionHost host = host(new FakePort());
        Probe.body =
                (event, ctx) -> {
                    AgentException e =
                            Check.raises(
                                    AgentException.class,
                                    () ->
                                            ctx.durableExecute(
                                                    new DurableCallable<Object>() {
                                                        public String getId() {
                                                            return "";
                                                        }

                                                        public Object call() {
                                                            return 1;
                                                        }
                                                    }));
                    Check.contains(e.getMessage(), "non-empty");
                };
        Check.equal("", host.execute("probe", EVENT));
    }

    /** A Java resource with settings, closed with the host. */
    public static final class Scorer implements AutoCloseable {
        static final List<String> CLOSED = new java.util.ArrayList<>();
        final Object limit;

        public Scorer(Map<String, Object> config) {
            this.limit = config.get("limit");
        }

        @Override
        public void close() {
            CLOSED.add("scorer " + limit);
        }
    }

    public void testJavaResourcesAreBuiltOnceFromTheirClassAndClosedWithTheHost() {
        Scorer.CLOSED.clear();
        FakePort port =
                new FakePort()
                        .answer("!{\"type\":\"JavaBridgeError\",\"message\":\"resource 'model' is a Python resource\"}");
        ActionHost host = host(port);
        host.declareResource("scorer", "tool", Scorer.class.getName(), "{\"limit\":5}");
        Probe.body =
                (event, ctx) -> {
                    Scorer first = (Scorer) ctx.getResource("scorer", "tool");
                    Check.equal(5L, first.limit);
                    Check.isTrue(first == ctx.getResource("scorer", "tool"), "built once");
                    AgentException wrongType =
                            Check.raises(AgentException.class, () -> ctx.getResource("scorer", "chat_model"));
                    Check.contains(wrongType.getMessage(), "declared as tool, not chat_model");
                    AgentException python =
                            Check.raises(AgentException.class, () -> ctx.getResource("model", "chat_model"));
                    Check.equal("JavaBridgeError", python.getErrorType());
                };
        Check.equal("", host.execute("probe", EVENT));
        Check.equal(List.of("resource[model, chat_model]"), port.calls);
        Check.equal("", host.close());
        Check.equal(List.of("scorer 5"), Scorer.CLOSED);
    }
}

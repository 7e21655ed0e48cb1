package flinkagentsctx.bridge;

import flinkagentsctx.api.Action;
import flinkagentsctx.api.DurableCallable;
import flinkagentsctx.api.Event;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import pemja.core.object.PyObject;

/**
 * The Java side of one agent operator: the Python core creates it (through the task thread's
 * context class loader, so jars given with {@code pipeline.jars} are found), opens it with its
 * endpoint, loads the Java actions, and runs them one step at a time on the task thread.
 *
 * <p>Every method answers with wire text: {@code ""} or {@code "="+value} when it went well, and
 * {@code "!"+error} when it did not, so no Java exception crosses into Python.
 */
public final class ActionHost {
    private final CallRegistry calls = new CallRegistry();
    private final JavaResources resources = new JavaResources();
    private final Map<String, Action> actions = new HashMap<>();
    private final Map<String, Map<String, Object>> configs = new HashMap<>();
    private final Map<Long, Step> steps = new HashMap<>();
    private final Object scope =
            Continuations.available() ? Continuations.scope("flink-agents-action") : null;
    private BridgedRunnerContext ctx;
    private AsyncCalls asyncCalls;

    /** A Java action running in a continuation: suspended while its async call runs. */
    static final class Step {
        final String name;
        final Object scope;
        Object continuation;
        Throwable failure;
        String reply;

        Step(String name, Object scope) {
            this.name = name;
            this.scope = scope;
        }
    }

    /** A host; {@link #open(PyObject, long)} it before use. */
    public ActionHost() {}

    /**
     * Connects the host to the Python endpoint.
     *
     * @param endpoint the Python object the context calls
     * @param wireVersion the wire-format version the Python core speaks
     * @param asyncThreads how many Java threads run the async durable calls of suspended actions
     * @return {@code "="} and facts about this JVM (its version, whether actions can be suspended
     *     and why not), or {@code "!"} and why the versions differ
     */
    public String open(PyObject endpoint, long wireVersion, long asyncThreads) {
        return openPort(new PemjaPort(endpoint), wireVersion, asyncThreads);
    }

    /**
     * Connects the host to any {@link PythonPort} (tests use a fake; a separate name, because
     * pemja does not pick between overloads).
     *
     * @param port the way into the Python core
     * @param wireVersion the wire-format version the Python core speaks
     * @param asyncThreads as for {@link #open(PyObject, long, long)}
     * @return as {@link #open(PyObject, long, long)}
     */
    public String openPort(PythonPort port, long wireVersion, long asyncThreads) {
        if (wireVersion != Wire.VERSION) {
            return Answers.problem(
                    "BridgeVersionError",
                    "the Java bridge speaks wire format " + Wire.VERSION + " and the Python core "
                            + wireVersion + "; use the bridge jar shipped with the installed "
                            + "flink_agents_ctx (flink_agents_ctx.java.bridge_jar())");
        }
        asyncCalls = new AsyncCalls((int) asyncThreads);
        ctx = new BridgedRunnerContext(port, calls, asyncCalls, resources);
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("wire_version", (long) Wire.VERSION);
        facts.put("java_version", System.getProperty("java.version"));
        facts.put("continuations", scope != null);
        facts.put("continuations_unavailable", Continuations.unavailableReason());
        facts.put("thread", Thread.currentThread().getName());
        return "=" + Wire.encode(facts);
    }

    /**
     * Loads and instantiates an action class.
     *
     * @param name the action's name in the agent
     * @param className the class, which implements {@link Action} and has a public no-argument
     *     constructor
     * @param configWire the action's settings as a wire map
     * @return {@code ""}, or {@code "!"} and what is wrong (with the class path searched when the
     *     class is missing)
     */
    @SuppressWarnings("unchecked")
    public String load(String name, String className, String configWire) {
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        Class<?> klass;
        try {
            klass = Class.forName(className, true, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            return Answers.problem(
                    "JavaClassNotFoundError",
                    "Java action '" + name + "': class " + className + " was not found (" + e + "). "
                            + "Searched " + describe(loader) + ". Add the jar holding it with "
                            + "pipeline.jars (or the agents environment's java_jars)");
        }
        if (!Action.class.isAssignableFrom(klass)) {
            return Answers.problem(
                    "JavaClassNotFoundError",
                    "Java action '" + name + "': class " + className + " does not implement "
                            + Action.class.getName());
        }
        try {
            actions.put(name, (Action) klass.getDeclaredConstructor().newInstance());
        } catch (ReflectiveOperationException | RuntimeException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            return Answers.problem(
                    "JavaClassNotFoundError",
                    "Java action '" + name + "': could not create " + className + " with its public "
                            + "no-argument constructor: " + cause);
        }
        Object config = Wire.decode(configWire);
        configs.put(name, Collections.unmodifiableMap((Map<String, Object>) config));
        return "";
    }

    private static String describe(ClassLoader loader) {
        List<String> parts = new ArrayList<>();
        for (ClassLoader l = loader; l != null; l = l.getParent()) {
            if (l instanceof URLClassLoader) {
                for (URL url : ((URLClassLoader) l).getURLs()) {
                    parts.add(url.toString());
                }
            }
        }
        parts.add("java.class.path=" + System.getProperty("java.class.path"));
        return "the task's class loader " + loader + " " + parts;
    }

    /**
     * Declares a Java resource, built from {@code className} when an action first asks for it.
     *
     * @param name the resource's name
     * @param type its type (a Python {@code ResourceType} value such as {@code "chat_model"})
     * @param className a class with a public constructor taking a {@code Map<String, Object>} (the
     *     settings) or none
     * @param configWire its settings as a wire map
     */
    public void declareResource(String name, String type, String className, String configWire) {
        resources.declare(name, type, className, configWire);
    }

    /**
     * Runs one action on one event.
     *
     * @param name the action's name
     * @param eventWire the event's wire text
     * @return {@code ""}, or {@code "!"} and the action's exception (class, message, stack)
     */
    public String execute(String name, String eventWire) {
        Action action = actions.get(name);
        if (action == null) {
            return Answers.problem("OperatorStateError", "Java action '" + name + "' was not loaded");
        }
        Event event = Wire.decodeEvent(eventWire);
        ctx.begin(name, configs.get(name), null);
        try {
            action.execute(event, ctx);
            return "";
        } catch (Throwable t) {
            return Answers.failure("JavaActionError", t);
        } finally {
            ctx.end();
        }
    }

    /**
     * Makes a durable call the running action asked for (called back by the Python core when the
     * journal has no outcome for it).
     *
     * @param handle the call's handle
     * @return {@code "="} and the result's wire text, or {@code "!"} and the call's exception
     */
    public String runCallable(long handle) {
        DurableCallable<?> callable = calls.get(handle);
        if (callable == null) {
            return Answers.problem("OperatorStateError", "no durable call with handle " + handle);
        }
        return answerOf(callable);
    }

    /** Makes the call; its answer is {@code "="} and the result's wire text, or {@code "!"}. */
    static String answerOf(DurableCallable<?> callable) {
        Object result;
        try {
            result = callable.call();
        } catch (Throwable t) {
            return Answers.failure("JavaCallError", t);
        }
        try {
            return "=" + Wire.encode(result);
        } catch (IllegalArgumentException e) {
            return Answers.problem(
                    "JournalEncodingError",
                    "durable call '" + callable.getId() + "' returned a value without a wire form: "
                            + e.getMessage());
        }
    }

    /**
     * Starts one action on one event inside a continuation (JDK 21): it runs until it ends, or
     * until it waits on {@link flinkagentsctx.api.RunnerContext#durableExecuteAsync}.
     *
     * @param token the execution's token, to {@link #resume} or {@link #cancel} it by
     * @param name the action's name
     * @param eventWire the event's wire text
     * @return {@code ""} (it ended), {@code "~"} (it waits: resume it with the call's answer), or
     *     {@code "!"} and the action's exception
     */
    public String start(long token, String name, String eventWire) {
        Action action = actions.get(name);
        if (action == null) {
            return Answers.problem("OperatorStateError", "Java action '" + name + "' was not loaded");
        }
        if (scope == null) {
            return Answers.problem("JavaBridgeError", Continuations.unavailableReason());
        }
        Event event = Wire.decodeEvent(eventWire);
        Step step = new Step(name, scope);
        step.continuation =
                Continuations.create(
                        scope,
                        () -> {
                            try {
                                action.execute(event, ctx);
                            } catch (Throwable t) {
                                step.failure = t;
                            }
                        });
        steps.put(token, step);
        return advance(token, step);
    }

    /**
     * Goes on with a waiting action.
     *
     * @param token its token
     * @param reply the answer of the call it waits on ({@code "="} value or {@code "!"} error)
     * @return as {@link #start}
     */
    public String resume(long token, String reply) {
        Step step = steps.get(token);
        if (step == null) {
            return Answers.problem("OperatorStateError", "no waiting Java action with token " + token);
        }
        step.reply = reply;
        return advance(token, step);
    }

    private String advance(long token, Step step) {
        ctx.begin(step.name, configs.get(step.name), step);
        try {
            Continuations.run(step.continuation);
        } catch (Throwable t) {
            steps.remove(token);
            return Answers.failure("JavaActionError", t);
        } finally {
            ctx.end();
        }
        if (!Continuations.isDone(step.continuation)) {
            return "~";
        }
        steps.remove(token);
        return step.failure == null ? "" : Answers.failure("JavaActionError", step.failure);
    }

    /**
     * Drops a waiting action (its execution was aborted); its call may still finish, and its
     * answer is then dropped by the core.
     *
     * @param token its token
     */
    public void cancel(long token) {
        steps.remove(token);
    }

    /**
     * @return the wire text of {@code [[handle, answer], ...]}: the async calls that ended since
     *     the last time (polled by the core on the task thread)
     */
    public String takeCompleted() {
        return asyncCalls == null ? "[]" : asyncCalls.takeCompleted();
    }

    /**
     * Drops the loaded and waiting actions, stops the async call threads and closes the Java
     * resources.
     *
     * @return {@code ""}, or {@code "!"} and what failed to close
     */
    public String close() {
        actions.clear();
        configs.clear();
        steps.clear();
        if (asyncCalls != null) {
            asyncCalls.close();
        }
        List<String> failures = resources.close();
        return failures.isEmpty()
                ? ""
                : Answers.problem("JavaResourceError", String.join("; ", failures));
    }
}

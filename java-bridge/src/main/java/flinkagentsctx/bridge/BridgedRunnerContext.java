package flinkagentsctx.bridge;

import flinkagentsctx.api.AgentException;
import flinkagentsctx.api.DurableCallable;
import flinkagentsctx.api.Event;
import flinkagentsctx.api.MailboxException;
import flinkagentsctx.api.MemoryObject;
import flinkagentsctx.api.MetricGroup;
import flinkagentsctx.api.RunnerContext;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Map;
import java.util.function.Function;

/**
 * The runner context of Java actions: one per operator, switched to the running action before each
 * step. Every member asks the Python core through the {@link PythonPort}, so memory rules, event
 * routing and journal matching are Python's.
 */
final class BridgedRunnerContext implements RunnerContext {
    private final PythonPort port;
    private final CallRegistry calls;
    private final AsyncCalls asyncCalls;
    private final JavaResources resources;
    private final Function<Wire.ObjectPath, Object> objects = this::memoryObject;
    private final MemoryObject sensory;
    private final MemoryObject shortTerm;
    private final MetricGroup agentGroup;
    private final MetricGroup actionGroup;

    // The running step: switched by begin() and end().
    private Thread taskThread;
    private String actionName;
    private Map<String, Object> actionConfig = Collections.emptyMap();
    private ActionHost.Step step;

    BridgedRunnerContext(
            PythonPort port, CallRegistry calls, AsyncCalls asyncCalls, JavaResources resources) {
        this.port = port;
        this.calls = calls;
        this.asyncCalls = asyncCalls;
        this.resources = resources;
        this.sensory = new BridgedMemoryObject(this, "sensory", "");
        this.shortTerm = new BridgedMemoryObject(this, "short_term", "");
        this.agentGroup = new BridgedMetricGroup(this, "agent", new ArrayList<>());
        this.actionGroup = new BridgedMetricGroup(this, "action", new ArrayList<>());
    }

    void begin(String action, Map<String, Object> config, ActionHost.Step running) {
        this.actionName = action;
        this.actionConfig = config;
        this.step = running;
        this.taskThread = Thread.currentThread();
    }

    void end() {
        this.step = null;
        this.taskThread = null;
        this.actionName = null;
        this.actionConfig = Collections.emptyMap();
    }

    /** Refuses calls from other threads, and after the action returned. */
    void check(String operation) {
        Thread current = Thread.currentThread();
        if (current == taskThread) {
            return;
        }
        if (taskThread == null) {
            throw new MailboxException(
                    operation + " was called after the action it belongs to returned; a runner "
                            + "context is only valid during Action.execute");
        }
        throw new MailboxException(
                operation + " was called from thread '" + current.getName() + "', but agent memory, "
                        + "send_event, get_resource and durable calls may only run on the operator's "
                        + "mailbox thread '" + taskThread.getName() + "'; return the value from the "
                        + "worker and apply it in the action instead");
    }

    Object ask(String operation, String method, Object... args) {
        check(operation);
        return Answers.value(port.call(method, args), objects);
    }

    private Object memoryObject(Wire.ObjectPath path) {
        return new BridgedMemoryObject(this, path.memoryType, path.path);
    }

    @Override
    public Object getKey() {
        return ask("key", "key");
    }

    @Override
    public void sendEvent(Event event) {
        check("send_event");
        if (event == null) {
            throw new AgentException("EventSerializationError", "send_event takes an Event, got null");
        }
        String wire;
        try {
            wire = Wire.encodeEvent(event);
        } catch (IllegalArgumentException e) {
            throw new AgentException(
                    "EventSerializationError",
                    "event " + event.getType() + " (id " + event.getId() + "): " + e.getMessage());
        }
        ask("send_event", "send_event", wire);
    }

    @Override
    public MemoryObject getSensoryMemory() {
        return sensory; // each of its operations checks the thread
    }

    @Override
    public MemoryObject getShortTermMemory() {
        return shortTerm;
    }

    @Override
    public MetricGroup getAgentMetricGroup() {
        return agentGroup;
    }

    @Override
    public MetricGroup getActionMetricGroup() {
        return actionGroup;
    }

    @Override
    public Object getResource(String name, String type) {
        check("get_resource");
        if (resources.has(name)) {
            return resources.get(name, type);
        }
        return ask("get_resource", "resource", name, type); // a Python resource: refused, named
    }

    @Override
    public Object getConfigValue(String key) {
        return ask("config", "config_value", key);
    }

    @Override
    public Map<String, Object> getActionConfig() {
        check("action config");
        return actionConfig;
    }

    @Override
    public Object getActionConfigValue(String key) {
        return getActionConfig().get(key);
    }

    private static String idOf(DurableCallable<?> callable, String operation) {
        String id = callable == null ? null : callable.getId();
        if (id == null || id.isEmpty()) {
            throw new AgentException(
                    "ConfigError",
                    operation + " needs a DurableCallable whose getId() is a non-empty, stable "
                            + "name of the call (such as \"score-order\")");
        }
        return id;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T durableExecute(DurableCallable<T> callable) {
        check("durable_execute");
        String id = idOf(callable, "durableExecute");
        long handle = calls.add(callable);
        try {
            return (T) ask("durable_execute", "durable_execute", id, handle);
        } finally {
            calls.remove(handle);
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T durableExecuteAsync(DurableCallable<T> callable) {
        ActionHost.Step running = step;
        if (running == null) {
            return durableExecute(callable); // no continuation (JDK 17): a synchronous call
        }
        check("durable_execute_async");
        String id = idOf(callable, "durableExecuteAsync");
        long handle = calls.add(callable);
        try {
            String answer = port.call("durable_execute_async", id, handle);
            if (!"~".equals(answer)) {
                return (T) Answers.value(answer, objects); // replayed from the journal
            }
            // The core recorded the call as started: run it on a Java thread and suspend; the
            // core resumes this continuation with the call's answer once it is journaled.
            asyncCalls.start(handle, callable);
            Continuations.yieldTo(running.scope);
            String reply = running.reply;
            running.reply = null;
            return (T) Answers.value(reply, objects);
        } finally {
            calls.remove(handle);
        }
    }

    String actionName() {
        return actionName;
    }
}

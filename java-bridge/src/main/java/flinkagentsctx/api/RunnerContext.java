package flinkagentsctx.api;

import java.util.Map;

/**
 * Everything a Java action can do besides computing. It has the same members as the Python
 * runner context and acts on the same keyed memory, events and durable journal: Python keeps the
 * rules, so errors and their messages are the same in both languages.
 *
 * <p>Use it only on the thread that called {@link Action#execute}, and only until that call
 * returns ({@link MailboxException} otherwise).
 */
public interface RunnerContext {

    /** @return the key of the input being processed, as a wire value */
    Object getKey();

    /**
     * Sends an event. It takes effect when the action finishes successfully: an {@link
     * Event#OUTPUT} event leaves the operator, any other event triggers the actions listening to
     * its type.
     *
     * @param event the event
     */
    void sendEvent(Event event);

    /** @return memory of the current run (one input and the events it causes) */
    MemoryObject getSensoryMemory();

    /** @return memory of the key that lasts across runs */
    MemoryObject getShortTermMemory();

    /** @return metrics of the whole agent operator */
    MetricGroup getAgentMetricGroup();

    /** @return metrics of the running action (key-value group {@code action=<name>}) */
    MetricGroup getActionMetricGroup();

    /**
     * A Java resource the agent declares ({@code agent.add_java_resource(name, type, class_name,
     * **settings)} in Python): built in this JVM on first use, once per operator, and closed with
     * the operator when it is {@link AutoCloseable}. A resource declared in Python cannot be used
     * from Java: asking for one throws an {@link AgentException} that names it.
     *
     * @param name the resource name
     * @param type the resource type, as the Python {@code ResourceType} value, such as {@code
     *     "chat_model"}
     * @return the resource
     */
    Object getResource(String name, String type);

    /**
     * @param key an agent configuration option
     * @return its value (the option's default when it has one and is not set), or null
     */
    Object getConfigValue(String key);

    /** @return the running action's own settings (read-only, empty when it has none) */
    Map<String, Object> getActionConfig();

    /**
     * @param key a setting of the running action
     * @return its value, or null
     */
    Object getActionConfigValue(String key);

    /**
     * Makes the call on the task thread, records its result or failure, and returns or throws it.
     * On a replay of this action the recorded outcome is returned without calling again.
     *
     * @param callable the call, with its id
     * @param <T> the result type
     * @return the result, decoded from its recorded form
     * @throws DurableCallException the call failed (now or when it was recorded)
     */
    <T> T durableExecute(DurableCallable<T> callable);

    /**
     * Like {@link #durableExecute}, for calls that wait on I/O. On JDK 21 (with {@code
     * --add-exports java.base/jdk.internal.vm=ALL-UNNAMED}) the call runs on a Java thread and the
     * action is suspended until its outcome is journaled; the operator serves other keys
     * meanwhile and resumes the action on the task thread. Elsewhere the call is made
     * synchronously on the task thread. The outcome and the journal are the same either way.
     * Do not call it inside a {@code synchronized} block (a suspended action cannot hold a
     * monitor).
     *
     * @param callable the call, with its id
     * @param <T> the result type
     * @return the result
     * @throws DurableCallException the call failed
     */
    <T> T durableExecuteAsync(DurableCallable<T> callable);
}

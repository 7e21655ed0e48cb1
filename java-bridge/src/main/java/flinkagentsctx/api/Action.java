package flinkagentsctx.api;

/**
 * An agent action written in Java: it reacts to the events it was registered for.
 *
 * <p>Register the class on the Python side with {@code agent.add_java_action(name, "com.example.MyAction",
 * listen_to=[...])}. The class needs a public no-argument constructor; one instance serves every
 * key of an operator, so keep per-key data in memory, not in fields. {@link #execute} runs on the
 * operator's task thread; the context must not be used from other threads or after
 * {@code execute} returns.
 */
public interface Action {

    /**
     * Handles one event.
     *
     * @param event the event that triggered the action
     * @param ctx what the action can do besides computing: send events, use memory, make durable
     *     calls
     * @throws Exception any failure; it is handled like a Python action's (the job fails and
     *     restores its last checkpoint, or, with {@code on_failure="emit"}, the run goes on with an
     *     ActionFailedEvent)
     */
    void execute(Event event, RunnerContext ctx) throws Exception;
}

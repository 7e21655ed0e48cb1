package flinkagentsctx.api;

/**
 * A durable call failed. Thrown on the first run and, from the recorded failure, on every replay,
 * so an action's {@code catch} takes the same branch either way.
 */
public class DurableCallException extends AgentException {
    private static final long serialVersionUID = 1L;

    private final String failureClass;
    private final String failureMessage;
    private final String remoteStack;

    /**
     * @param errorType the core's name of the error ({@code JavaCallError} for a Java exception)
     * @param failureClass the class of the exception the call threw
     * @param failureMessage its message
     * @param remoteStack its stack trace as text, as recorded
     */
    public DurableCallException(
            String errorType, String failureClass, String failureMessage, String remoteStack) {
        super(errorType, "durable call failed: " + failureClass + ": " + failureMessage);
        this.failureClass = failureClass;
        this.failureMessage = failureMessage;
        this.remoteStack = remoteStack;
    }

    /** @return the class name of the exception the call threw, such as {@code java.io.IOException} */
    public String getFailureClass() {
        return failureClass;
    }

    /** @return the message of the exception the call threw */
    public String getFailureMessage() {
        return failureMessage;
    }

    /** @return the recorded stack trace text of the failure */
    public String getRemoteStack() {
        return remoteStack;
    }
}

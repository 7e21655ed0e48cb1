package flinkagentsctx.api;

/**
 * An operation of the runner context was refused by the agent core, for example a memory path
 * that holds a value where an object is needed, or a value memory cannot keep.
 *
 * <p>{@link #getErrorType()} names the error as the Python core raised it (for example {@code
 * MemoryPathError}, {@code MemoryValueError}, {@code DurableScopeError}), so that Java and Python
 * actions see the same errors with the same messages.
 */
public class AgentException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String errorType;

    /**
     * @param errorType the core's name of the error
     * @param message what went wrong and what to do
     */
    public AgentException(String errorType, String message) {
        super(message);
        this.errorType = errorType;
    }

    /** @return the core's name of the error, such as {@code MemoryPathError} */
    public String getErrorType() {
        return errorType;
    }

    @Override
    public String toString() {
        return getClass().getName() + "[" + errorType + "]: " + getMessage();
    }
}

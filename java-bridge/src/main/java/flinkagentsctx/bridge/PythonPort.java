package flinkagentsctx.bridge;

/**
 * The bridge's one way into the Python core: call a method of the Python endpoint with strings,
 * numbers and booleans, and get its answer as wire text ({@code "=" + value} or {@code "!" +
 * error}). In a job this is {@link PemjaPort}; tests use a fake.
 */
public interface PythonPort {

    /**
     * @param method the endpoint method
     * @param args its arguments (String, Long, Boolean)
     * @return the answer's wire text
     */
    String call(String method, Object... args);
}

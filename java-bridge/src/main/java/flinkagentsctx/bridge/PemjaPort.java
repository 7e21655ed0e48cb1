package flinkagentsctx.bridge;

import pemja.core.object.PyObject;

/** A {@link PythonPort} over a Python object handed to Java by pemja (thread mode). */
final class PemjaPort implements PythonPort {
    private final PyObject endpoint;

    PemjaPort(PyObject endpoint) {
        this.endpoint = endpoint;
    }

    @Override
    public String call(String method, Object... args) {
        Object answer = endpoint.invokeMethod(method, args);
        if (!(answer instanceof String)) {
            throw new IllegalStateException(
                    "the Python endpoint's " + method + " answered " + answer + ", not wire text");
        }
        return (String) answer;
    }
}

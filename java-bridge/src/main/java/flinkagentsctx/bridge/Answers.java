package flinkagentsctx.bridge;

import flinkagentsctx.api.AgentException;
import flinkagentsctx.api.DurableCallException;
import flinkagentsctx.api.MailboxException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/** Reading the Python core's answers, and writing the bridge's own. */
final class Answers {
    private Answers() {}

    static Object value(String answer, Function<Wire.ObjectPath, Object> objects) {
        if (answer.startsWith("=")) {
            return Wire.decode(answer.substring(1), objects);
        }
        if (answer.startsWith("!")) {
            throw error(answer.substring(1));
        }
        throw new IllegalStateException("not a wire answer: " + answer);
    }

    static RuntimeException error(String text) {
        Map<?, ?> error = (Map<?, ?>) Json.read(text);
        String type = String.valueOf(error.get("type"));
        String message = String.valueOf(error.get("message"));
        if (error.containsKey("class")) {
            return new DurableCallException(
                    type, String.valueOf(error.get("class")), message, String.valueOf(error.get("stack")));
        }
        if ("MailboxThreadError".equals(type)) {
            return new MailboxException(message);
        }
        return new AgentException(type, message);
    }

    /** {@code "!"} and an error object for a Java exception. */
    static String failure(String type, Throwable t) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("type", type);
        error.put("class", t.getClass().getName());
        error.put("message", t.getMessage() == null ? "" : t.getMessage());
        if (t instanceof AgentException) {
            error.put("error_type", ((AgentException) t).getErrorType());
        }
        StringWriter stack = new StringWriter();
        t.printStackTrace(new PrintWriter(stack));
        error.put("stack", stack.toString());
        return "!" + Json.write(error);
    }

    /** {@code "!"} and an error object for a problem the bridge found itself. */
    static String problem(String type, String message) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("type", type);
        error.put("message", message);
        return "!" + Json.write(error);
    }
}

package flinkagentsctx.bridge;

import flinkagentsctx.api.AgentException;
import java.lang.reflect.Constructor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Java resources an agent declares ({@code agent.add_java_resource(...)} in Python): each built
 * from its class on first use, through the task thread's context class loader, and closed with
 * the operator when it is {@link AutoCloseable}.
 */
final class JavaResources {
    private static final class Declared {
        final String type;
        final String className;
        final Map<String, Object> config;

        Declared(String type, String className, Map<String, Object> config) {
            this.type = type;
            this.className = className;
            this.config = config;
        }
    }

    private final Map<String, Declared> declared = new LinkedHashMap<>();
    private final Map<String, Object> built = new LinkedHashMap<>();

    @SuppressWarnings("unchecked")
    void declare(String name, String type, String className, String configWire) {
        Map<String, Object> config = (Map<String, Object>) Wire.decode(configWire);
        declared.put(name, new Declared(type, className, Collections.unmodifiableMap(config)));
    }

    boolean has(String name) {
        return declared.containsKey(name);
    }

    /** The resource, built on first use. */
    Object get(String name, String type) {
        Declared d = declared.get(name);
        if (!d.type.equals(type)) {
            throw new AgentException(
                    "UnknownResourceError",
                    "unknown resource '" + name + "' of type " + type + "; '" + name
                            + "' is declared as " + d.type + ", not " + type);
        }
        Object resource = built.get(name);
        if (resource == null) {
            resource = build(name, d);
            built.put(name, resource);
        }
        return resource;
    }

    private static Object build(String name, Declared d) {
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        Class<?> klass;
        try {
            klass = Class.forName(d.className, true, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            throw new AgentException(
                    "JavaClassNotFoundError",
                    "Java resource '" + name + "': class " + d.className + " was not found (" + e
                            + "); add the jar holding it with pipeline.jars");
        }
        try {
            Constructor<?> withConfig = null;
            for (Constructor<?> c : klass.getConstructors()) {
                if (c.getParameterCount() == 1 && c.getParameterTypes()[0].isAssignableFrom(Map.class)) {
                    withConfig = c;
                }
            }
            return withConfig != null
                    ? withConfig.newInstance(d.config)
                    : klass.getConstructor().newInstance();
        } catch (ReflectiveOperationException | RuntimeException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new AgentException(
                    "JavaResourceError",
                    "Java resource '" + name + "': could not create " + d.className + " (it needs a "
                            + "public constructor taking a Map<String, Object> or none): " + cause);
        }
    }

    /** Closes the built resources, the last built first; returns what failed to close. */
    List<String> close() {
        List<String> failures = new ArrayList<>();
        List<Map.Entry<String, Object>> all = new ArrayList<>(built.entrySet());
        Collections.reverse(all);
        for (Map.Entry<String, Object> e : all) {
            if (e.getValue() instanceof AutoCloseable) {
                try {
                    ((AutoCloseable) e.getValue()).close();
                } catch (Exception ex) {
                    failures.add("closing Java resource '" + e.getKey() + "' failed: " + ex);
                }
            }
        }
        built.clear();
        return failures;
    }
}

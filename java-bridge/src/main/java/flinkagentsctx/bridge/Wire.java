package flinkagentsctx.bridge;

import flinkagentsctx.api.Event;
import flinkagentsctx.api.MemoryRef;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The wire format (version {@value #VERSION}) of values and events between the Java bridge and the
 * Python core: JSON, with single-key objects whose key starts with {@code $} for what JSON lacks.
 *
 * <pre>
 *   null, Boolean, whole number, finite double, String   as JSON
 *   byte[]                                                {"$bytes": "base64"}
 *   NaN, Infinity, -Infinity                              {"$float": "NaN"} (and so on)
 *   List                                                  array
 *   Map with String keys                                  object; a key starting with $ gets one more $
 *   MemoryRef                                             {"$ref": {"memory_type": ..., "path": ...}}
 *   Event                                                 {"$event": {"type", "id", "source_timestamp", "fields"}}
 *   a memory object (answer of a memory get)              {"$object": {"memory_type": ..., "path": ...}}
 * </pre>
 *
 * Answers of the Python core are {@code "=" + value} or {@code "!" + error}, where an error is an
 * object with {@code type} and {@code message} (and {@code class} and {@code stack} for a failed
 * call).
 */
public final class Wire {
    /** The wire-format version both sides must speak; checked once when the bridge opens. */
    public static final int VERSION = 1;

    private Wire() {}

    /** A memory object named in an answer; the context turns it into a {@code MemoryObject}. */
    public static final class ObjectPath {
        /** {@code "sensory"} or {@code "short_term"}. */
        public final String memoryType;
        /** The object's absolute path. */
        public final String path;

        ObjectPath(String memoryType, String path) {
            this.memoryType = memoryType;
            this.path = path;
        }
    }

    /**
     * @param value a wire value
     * @return its wire text
     * @throws IllegalArgumentException a part of the value has no wire form (the message names
     *     where and what)
     */
    public static String encode(Object value) {
        return Json.write(toJson(value, "value", 0));
    }

    /**
     * @param text wire text
     * @return the value, with memory objects as {@link ObjectPath}
     */
    public static Object decode(String text) {
        return fromJson(Json.read(text), null);
    }

    static Object decode(String text, Function<ObjectPath, Object> objects) {
        return fromJson(Json.read(text), objects);
    }

    /**
     * @param event an event
     * @return its wire text (the {@code $event} body)
     */
    public static String encodeEvent(Event event) {
        return Json.write(eventJson(event, 0));
    }

    /**
     * @param text an event's wire text
     * @return the event
     */
    public static Event decodeEvent(String text) {
        Object json = Json.read(text);
        if (!(json instanceof Map)) {
            throw new IllegalArgumentException("an event's wire form is an object, got " + text);
        }
        return eventFromJson((Map<?, ?>) json, null);
    }

    private static Map<String, Object> eventJson(Event event, int depth) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("type", event.getType());
        out.put("id", event.getId());
        out.put("source_timestamp", event.getSourceTimestamp());
        Map<String, Object> fields = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : event.getFields().entrySet()) {
            fields.put(
                    escapeKey(e.getKey()),
                    toJson(e.getValue(), "event " + event.getType() + " field '" + e.getKey() + "'", depth + 1));
        }
        out.put("fields", fields);
        return out;
    }

    private static Map<String, Object> tag(String name, Object body) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put(name, body);
        return out;
    }

    private static String escapeKey(String key) {
        return key.startsWith("$") ? "$" + key : key;
    }

    private static Object toJson(Object value, String where, int depth) {
        if (depth > 100) {
            throw new IllegalArgumentException(where + " is nested more than 100 levels deep");
        }
        if (value == null
                || value instanceof String
                || value instanceof Boolean
                || value instanceof Long
                || value instanceof Integer
                || value instanceof Short
                || value instanceof Byte
                || value instanceof BigInteger) {
            return value;
        }
        if (value instanceof Double || value instanceof Float) {
            double d = ((Number) value).doubleValue();
            if (Double.isNaN(d)) {
                return tag("$float", "NaN");
            }
            if (Double.isInfinite(d)) {
                return tag("$float", d > 0 ? "Infinity" : "-Infinity");
            }
            return d;
        }
        if (value instanceof byte[]) {
            return tag("$bytes", Base64.getEncoder().encodeToString((byte[]) value));
        }
        if (value instanceof List) {
            List<Object> out = new ArrayList<>();
            int i = 0;
            for (Object item : (List<?>) value) {
                out.add(toJson(item, where + "[" + i++ + "]", depth + 1));
            }
            return out;
        }
        if (value instanceof Map) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
                if (!(e.getKey() instanceof String)) {
                    throw new IllegalArgumentException(
                            where + " has a map key of type "
                                    + (e.getKey() == null ? "null" : e.getKey().getClass().getName())
                                    + "; wire maps have String keys");
                }
                String key = (String) e.getKey();
                out.put(escapeKey(key), toJson(e.getValue(), where + "." + key, depth + 1));
            }
            return out;
        }
        if (value instanceof MemoryRef) {
            MemoryRef ref = (MemoryRef) value;
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("memory_type", ref.getMemoryType());
            body.put("path", ref.getPath());
            return tag("$ref", body);
        }
        if (value instanceof Event) {
            return tag("$event", eventJson((Event) value, depth));
        }
        throw new IllegalArgumentException(
                where + " is a " + value.getClass().getName() + ", which has no wire form; use null, "
                        + "Boolean, a whole number, Double, String, byte[], List, Map with String keys, "
                        + "MemoryRef or Event (convert it, for example with toString())");
    }

    private static Object fromJson(Object json, Function<ObjectPath, Object> objects) {
        if (json instanceof List) {
            List<Object> out = new ArrayList<>();
            for (Object item : (List<?>) json) {
                out.add(fromJson(item, objects));
            }
            return out;
        }
        if (!(json instanceof Map)) {
            return json;
        }
        Map<?, ?> map = (Map<?, ?>) json;
        if (map.size() == 1) {
            Map.Entry<?, ?> only = map.entrySet().iterator().next();
            String key = (String) only.getKey();
            if (key.startsWith("$") && !key.startsWith("$$")) {
                return fromTag(key, only.getValue(), objects);
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String key = (String) e.getKey();
            out.put(key.startsWith("$") ? key.substring(1) : key, fromJson(e.getValue(), objects));
        }
        return out;
    }

    private static Object fromTag(String tag, Object body, Function<ObjectPath, Object> objects) {
        switch (tag) {
            case "$bytes":
                return Base64.getDecoder().decode((String) body);
            case "$float":
                switch ((String) body) {
                    case "NaN":
                        return Double.NaN;
                    case "Infinity":
                        return Double.POSITIVE_INFINITY;
                    case "-Infinity":
                        return Double.NEGATIVE_INFINITY;
                    default:
                        throw new IllegalArgumentException("unknown $float " + body);
                }
            case "$ref": {
                Map<?, ?> ref = (Map<?, ?>) body;
                return new MemoryRef((String) ref.get("memory_type"), (String) ref.get("path"));
            }
            case "$object": {
                Map<?, ?> ref = (Map<?, ?>) body;
                ObjectPath path = new ObjectPath((String) ref.get("memory_type"), (String) ref.get("path"));
                return objects == null ? path : objects.apply(path);
            }
            case "$event":
                return eventFromJson((Map<?, ?>) body, objects);
            default:
                throw new IllegalArgumentException(
                        "unknown wire tag " + tag + " (this bridge speaks wire format " + VERSION + ")");
        }
    }

    @SuppressWarnings("unchecked")
    private static Event eventFromJson(Map<?, ?> json, Function<ObjectPath, Object> objects) {
        Object fields = fromJson(json.get("fields"), objects);
        Object ts = json.get("source_timestamp");
        return new Event(
                (String) json.get("type"),
                (String) json.get("id"),
                fields == null ? new LinkedHashMap<>() : (Map<String, Object>) fields,
                ts == null ? null : ((Number) ts).longValue());
    }
}

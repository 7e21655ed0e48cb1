package flinkagentsctx.api;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An event: what actions react to and send. The same event crosses between Java and Python
 * actions with its type, id and fields.
 *
 * <p>{@link #getType()} is the Python event class's name: the full {@code module.QualName} for
 * events that come from Python, or, for events made in Java, the name given to the constructor,
 * which may be the class's plain name (such as {@code "Middle"}) when no other event class of the
 * agent has that name. {@link #isType} compares either form. Field values are wire values (see
 * {@link DurableCallable}); an event sent to Python becomes an instance of its Python class with
 * these fields.
 */
public final class Event {
    /** The type of the event that carries one input record (its field {@code input}). */
    public static final String INPUT = "flink_agents_ctx.events.InputEvent";

    /** The type of the event whose field {@code output} leaves the agent operator. */
    public static final String OUTPUT = "flink_agents_ctx.events.OutputEvent";

    private static final String ID_PREFIX =
            UUID.randomUUID().toString().replace("-", "").substring(0, 16) + "j";
    private static final AtomicLong ID_COUNTER = new AtomicLong();

    private final String type;
    private final String id;
    private final Map<String, Object> fields;
    private final Long sourceTimestamp;

    /**
     * A new event with a fresh id.
     *
     * @param type the Python event class's name (plain or {@code module.QualName})
     * @param fields the field values
     */
    public Event(String type, Map<String, ?> fields) {
        this(type, ID_PREFIX + "-" + Long.toHexString(ID_COUNTER.getAndIncrement()), fields, null);
    }

    /**
     * An event with a given id (as read from the wire).
     *
     * @param type the event type
     * @param id the event id
     * @param fields the field values
     * @param sourceTimestamp the timestamp of the input that caused it, or null
     */
    public Event(String type, String id, Map<String, ?> fields, Long sourceTimestamp) {
        if (type == null || type.isEmpty()) {
            throw new IllegalArgumentException("an event needs a type: the Python event class name");
        }
        this.type = type;
        this.id = Objects.requireNonNull(id, "id");
        this.fields = Collections.unmodifiableMap(new LinkedHashMap<>(fields));
        this.sourceTimestamp = sourceTimestamp;
    }

    /**
     * An event that leaves the agent operator with {@code output} as the record.
     *
     * @param output a wire value
     * @return the OutputEvent
     */
    public static Event output(Object output) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("output", output);
        return new Event(OUTPUT, fields);
    }

    /** @return the event type */
    public String getType() {
        return type;
    }

    /**
     * @param name a plain class name ({@code "Middle"}) or a full one ({@code "jobs.demo.Middle"})
     * @return whether this event is of that type
     */
    public boolean isType(String name) {
        if (type.equals(name)) {
            return true;
        }
        return name.indexOf('.') < 0 && type.substring(type.lastIndexOf('.') + 1).equals(name);
    }

    /** @return the event id */
    public String getId() {
        return id;
    }

    /** @return the field values (read-only) */
    public Map<String, Object> getFields() {
        return fields;
    }

    /**
     * @param field a field name
     * @return its value, or null
     */
    public Object get(String field) {
        return fields.get(field);
    }

    /** @return the timestamp of the input record that caused the event, or null */
    public Long getSourceTimestamp() {
        return sourceTimestamp;
    }

    @Override
    public String toString() {
        return "Event(" + type + ", id=" + id + ", " + fields + ")";
    }
}

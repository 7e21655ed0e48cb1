package flinkagentsctx.api;

import java.util.List;
import java.util.Map;

/**
 * A node of agent memory: the root of sensory or short-term memory, or an object inside it. The
 * same rules as for Python actions apply (they are checked by the same code): paths use dots
 * ({@code "user.name"}), values must be wire values, and errors come as {@link AgentException}
 * with the same type names and messages.
 */
public interface MemoryObject {

    /** @return the absolute path of this object ({@code ""} for the root) */
    String getPath();

    /**
     * @param path a path relative to this object
     * @return the value at {@code path}, a {@link MemoryObject} for an object, or {@code null}
     */
    Object get(String path);

    /**
     * @param ref a reference returned by {@link #set}, from any action of the same key
     * @return the referenced value, or {@code null}
     */
    Object get(MemoryRef ref);

    /**
     * Stores a value, creating missing parent objects.
     *
     * @param path a path relative to this object
     * @param value a wire value
     * @return a reference to the value
     */
    MemoryRef set(String path, Object value);

    /**
     * Creates an object at {@code path}; an existing object is kept with its children.
     *
     * @param path a path relative to this object
     * @param overwrite whether a value already at {@code path} is replaced
     * @return the object
     */
    MemoryObject newObject(String path, boolean overwrite);

    /**
     * @param path a path relative to this object
     * @return whether anything was there before it was removed with everything below it
     */
    boolean delete(String path);

    /**
     * @param path a path relative to this object
     * @return whether the path holds a value or an object
     */
    boolean isExist(String path);

    /** @return the names of the direct children, in the order they were first created */
    List<String> getFieldNames();

    /**
     * @return the direct children: values as they are, nested objects as the string {@code
     *     "NestedObject"}
     */
    Map<String, Object> getFields();
}

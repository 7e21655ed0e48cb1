package flinkagentsctx.api;

import java.util.Objects;

/**
 * A reference to a value in agent memory, returned by {@link MemoryObject#set}. It is small, can
 * be put in an event field, and resolves in any action of the same key (Java or Python) with
 * {@link MemoryObject#get(MemoryRef)}.
 */
public final class MemoryRef {
    private final String memoryType;
    private final String path;

    /**
     * @param memoryType {@code "sensory"} or {@code "short_term"}
     * @param path the absolute path of the value
     */
    public MemoryRef(String memoryType, String path) {
        this.memoryType = Objects.requireNonNull(memoryType, "memoryType");
        this.path = Objects.requireNonNull(path, "path");
    }

    /** @return {@code "sensory"} or {@code "short_term"} */
    public String getMemoryType() {
        return memoryType;
    }

    /** @return the absolute path of the value */
    public String getPath() {
        return path;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MemoryRef
                && ((MemoryRef) o).memoryType.equals(memoryType)
                && ((MemoryRef) o).path.equals(path);
    }

    @Override
    public int hashCode() {
        return Objects.hash(memoryType, path);
    }

    @Override
    public String toString() {
        return "MemoryRef(" + memoryType + ", " + path + ")";
    }
}

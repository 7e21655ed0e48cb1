package flinkagentsctx.bridge;

import flinkagentsctx.api.MemoryObject;
import flinkagentsctx.api.MemoryRef;
import java.util.List;
import java.util.Map;

/** A {@link MemoryObject} whose every operation is made by the Python core. */
final class BridgedMemoryObject implements MemoryObject {
    private final BridgedRunnerContext ctx;
    private final String memoryType;
    private final String path;

    BridgedMemoryObject(BridgedRunnerContext ctx, String memoryType, String path) {
        this.ctx = ctx;
        this.memoryType = memoryType;
        this.path = path;
    }

    @Override
    public String getPath() {
        return path;
    }

    @Override
    public Object get(String relative) {
        return ctx.ask("memory get", "memory_get", memoryType, path, relative);
    }

    @Override
    public Object get(MemoryRef ref) {
        return ctx.ask("memory get", "memory_get", ref.getMemoryType(), "", ref.getPath());
    }

    @Override
    public MemoryRef set(String relative, Object value) {
        ctx.check("memory set");
        String wire;
        try {
            wire = Wire.encode(value);
        } catch (IllegalArgumentException e) {
            throw new flinkagentsctx.api.AgentException(
                    "MemoryValueError",
                    "memory set of '" + relative + "': " + e.getMessage() + "; nothing was written");
        }
        return (MemoryRef) ctx.ask("memory set", "memory_set", memoryType, path, relative, wire);
    }

    @Override
    public MemoryObject newObject(String relative, boolean overwrite) {
        return (MemoryObject)
                ctx.ask("memory new_object", "memory_new_object", memoryType, path, relative, overwrite);
    }

    @Override
    public boolean delete(String relative) {
        return (Boolean) ctx.ask("memory delete", "memory_delete", memoryType, path, relative);
    }

    @Override
    public boolean isExist(String relative) {
        return (Boolean) ctx.ask("memory is_exist", "memory_is_exist", memoryType, path, relative);
    }

    @Override
    @SuppressWarnings("unchecked")
    public List<String> getFieldNames() {
        return (List<String>) ctx.ask("memory get_field_names", "memory_field_names", memoryType, path);
    }

    @Override
    @SuppressWarnings("unchecked")
    public Map<String, Object> getFields() {
        return (Map<String, Object>) ctx.ask("memory get_fields", "memory_fields", memoryType, path);
    }

    @Override
    public String toString() {
        return "MemoryObject(" + memoryType + ", path='" + path + "')";
    }
}

package flinkagentsctx.bridge;

import flinkagentsctx.api.DurableCallable;
import java.util.HashMap;
import java.util.Map;

/** The durable calls the Python core may ask the bridge to make, by handle. */
final class CallRegistry {
    private final Map<Long, DurableCallable<?>> calls = new HashMap<>();
    private long next;

    long add(DurableCallable<?> callable) {
        long handle = next++;
        calls.put(handle, callable);
        return handle;
    }

    DurableCallable<?> get(long handle) {
        return calls.get(handle);
    }

    void remove(long handle) {
        calls.remove(handle);
    }
}

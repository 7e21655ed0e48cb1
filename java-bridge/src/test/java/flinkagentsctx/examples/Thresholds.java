package flinkagentsctx.examples;

import java.util.Map;

/** A Java resource: a threshold from its settings ({@code limit}). */
public final class Thresholds {
    private final long limit;

    /** @param config the resource's settings */
    public Thresholds(Map<String, Object> config) {
        this.limit = (Long) config.get("limit");
    }

    /** @return the threshold */
    public long limit() {
        return limit;
    }
}

package flinkagentsctx.bridge;

import flinkagentsctx.api.MetricGroup;
import java.util.ArrayList;
import java.util.List;

/** A {@link MetricGroup} whose metrics live in the Python core's metric groups. */
final class BridgedMetricGroup implements MetricGroup {
    private final BridgedRunnerContext ctx;
    private final String scope;
    private final List<Object> subGroups;
    private final String subGroupsWire;

    BridgedMetricGroup(BridgedRunnerContext ctx, String scope, List<Object> subGroups) {
        this.ctx = ctx;
        this.scope = scope;
        this.subGroups = subGroups;
        this.subGroupsWire = Wire.encode(subGroups);
    }

    private MetricGroup child(Object step) {
        List<Object> path = new ArrayList<>(subGroups);
        path.add(step);
        return new BridgedMetricGroup(ctx, scope, path);
    }

    @Override
    public MetricGroup getSubGroup(String name) {
        return child(name);
    }

    @Override
    public MetricGroup getSubGroup(String name, String value) {
        List<Object> pair = new ArrayList<>();
        pair.add(name);
        pair.add(value);
        return child(pair);
    }

    private void update(String kind, String name, Object value) {
        ctx.ask("metrics", "metric", scope, subGroupsWire, kind, name, value);
    }

    @Override
    public void incCounter(String name, long n) {
        update("counter", name, n);
    }

    @Override
    public void markMeter(String name, long n) {
        update("meter", name, n);
    }

    @Override
    public void updateGauge(String name, double value) {
        update("gauge", name, value);
    }

    @Override
    public void updateHistogram(String name, double value) {
        update("histogram", name, value);
    }
}

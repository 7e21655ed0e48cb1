package flinkagentsctx.api;

/**
 * A group of metrics reported through Flink: the agent's group, or the running action's (key-value
 * group {@code action=<name>}). Metrics are created on first use and shared with Python actions
 * using the same names.
 */
public interface MetricGroup {

    /**
     * @param name a sub-group name
     * @return the sub-group
     */
    MetricGroup getSubGroup(String name);

    /**
     * @param name the key of a key-value sub-group
     * @param value its value
     * @return the sub-group
     */
    MetricGroup getSubGroup(String name, String value);

    /**
     * Adds to a counter.
     *
     * @param name the counter
     * @param n how much to add (negative to subtract)
     */
    void incCounter(String name, long n);

    /**
     * Marks events on a meter.
     *
     * @param name the meter
     * @param n how many events
     */
    void markMeter(String name, long n);

    /**
     * Sets a gauge.
     *
     * @param name the gauge
     * @param value its new value
     */
    void updateGauge(String name, double value);

    /**
     * Adds a value to a histogram.
     *
     * @param name the histogram
     * @param value the value
     */
    void updateHistogram(String name, double value);
}

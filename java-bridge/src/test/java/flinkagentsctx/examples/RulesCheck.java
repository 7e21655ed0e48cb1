package flinkagentsctx.examples;

import flinkagentsctx.api.Action;
import flinkagentsctx.api.Event;
import flinkagentsctx.api.MemoryObject;
import flinkagentsctx.api.RunnerContext;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Java step of a mixed agent: reads what a Python action wrote to sensory and short-term
 * memory, writes its own, and sends an event a Python action listens to ({@code Back}).
 */
public final class RulesCheck implements Action {
    @Override
    public void execute(Event event, RunnerContext ctx) {
        MemoryObject sensory = ctx.getSensoryMemory();
        MemoryObject shortTerm = ctx.getShortTermMemory();
        Object fromPython = sensory.get("from_python");
        Object count = shortTerm.get("count");
        Object seen = shortTerm.get("java.seen");
        long seenNow = (seen == null ? 0L : (Long) seen) + 1;
        shortTerm.set("java.seen", seenNow);
        Map<String, Object> note = new LinkedHashMap<>();
        note.put("limit", ctx.getActionConfigValue("limit"));
        note.put("key", ctx.getKey());
        note.put("threshold", ((Thresholds) ctx.getResource("thresholds", "tool")).limit());
        sensory.set("from_java", note);
        ctx.getActionMetricGroup().incCounter("rulesChecked", 1);
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("value", Arrays.asList(fromPython, count, event.get("note"), seenNow));
        ctx.sendEvent(new Event("Back", fields));
    }
}

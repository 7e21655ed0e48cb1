package alerts;

import flinkagentsctx.api.Action;
import flinkagentsctx.api.Event;
import flinkagentsctx.api.MemoryObject;
import flinkagentsctx.api.RunnerContext;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The rules check of the alert-enrichment example: decides what happens to an enriched alert
 * (page someone, review a recent deploy, open a ticket, or suppress it).
 *
 * <p>It reads the enrichment the Python action left in sensory memory, counts the host's alerts
 * in short-term memory (kept across inputs in Flink keyed state, shared with the Python actions),
 * and sends a {@code Decided} event that a Python action turns into the output. The number of
 * alerts after which a production host pages is the action setting {@code page_after}.
 */
public final class AlertRules implements Action {
    @Override
    public void execute(Event event, RunnerContext ctx) {
        MemoryObject sensory = ctx.getSensoryMemory();
        String severity = (String) event.get("severity");
        String tier = (String) sensory.get("tier");
        Object deploy = sensory.get("deploy");

        MemoryObject hostMemory = ctx.getShortTermMemory();
        Object seen = hostMemory.get("alerts");
        long alerts = (seen == null ? 0L : ((Number) seen).longValue()) + 1;
        hostMemory.set("alerts", alerts);
        long pageAfter = ((Number) ctx.getActionConfigValue("page_after")).longValue();

        String decision;
        String reason;
        if ("critical".equals(severity) && "prod".equals(tier)) {
            decision = "page";
            reason = "critical alert on a production host";
        } else if (deploy != null && !"low".equals(severity)) {
            decision = "review-deploy";
            reason = "alert after deploy " + deploy;
        } else if ("prod".equals(tier) && alerts >= pageAfter) {
            decision = "page";
            reason = alerts + " alerts from this host";
        } else if ("low".equals(severity) && !"prod".equals(tier)) {
            decision = "suppress";
            reason = "low severity outside production";
        } else {
            decision = "ticket";
            reason = severity + " alert on a " + tier + " host";
        }
        ctx.getActionMetricGroup().incCounter("decisions", 1);

        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("decision", decision);
        fields.put("reason", reason);
        fields.put("host_alerts", alerts);
        ctx.sendEvent(new Event("Decided", fields));
    }
}

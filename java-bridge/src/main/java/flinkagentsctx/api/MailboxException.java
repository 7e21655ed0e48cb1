package flinkagentsctx.api;

/**
 * The runner context was used from a thread other than the operator's task thread, or after the
 * action it was given to had returned. Keyed state belongs to the key the task thread is serving,
 * so agent memory, events and durable calls are only available on that thread, during the action.
 */
public class MailboxException extends AgentException {
    private static final long serialVersionUID = 1L;

    /** @param message what was called, from which thread, and what to do instead */
    public MailboxException(String message) {
        super("MailboxThreadError", message);
    }
}

package flinkagentsctx.api;

/**
 * A call whose outcome is recorded, so that a replayed action gets the recorded result (or
 * exception) back instead of making the call again.
 *
 * <p>The call may only compute and return a value: using memory, events or resources inside
 * {@link #call()} is an error, because a replay does not run it. The result must be a wire value
 * (null, Boolean, a whole number, a finite or non-finite double, String, byte[], List or Map with
 * String keys of those); it comes back decoded from its recorded form on the first run and on every
 * replay alike (whole numbers as {@code Long}, or {@code BigInteger} when they do not fit; other
 * numbers as {@code Double}), so the action sees the same value either way.
 *
 * @param <T> the result type
 */
public interface DurableCallable<T> {

    /**
     * The call's identity within its action: replay matches calls by position and by this id, so
     * keep it stable across versions of the job (for example {@code "score-order"}).
     *
     * @return a non-empty id
     */
    String getId();

    /**
     * Makes the call.
     *
     * @return the result (a wire value)
     * @throws Exception the call's failure; it is recorded and thrown again, as a {@link
     *     DurableCallException}, on every replay
     */
    T call() throws Exception;
}

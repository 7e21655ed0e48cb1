package flinkagentsctx.bridge;

import flinkagentsctx.api.DurableCallable;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs the durable calls of suspended Java actions on a pool of Java threads; their answers wait
 * in a queue until the Python core takes them on the task thread ({@link #takeCompleted()}).
 */
final class AsyncCalls {
    private final int threads;
    private final ConcurrentLinkedQueue<List<Object>> completed = new ConcurrentLinkedQueue<>();
    private ExecutorService pool;

    AsyncCalls(int threads) {
        this.threads = Math.max(1, threads);
    }

    /** Starts {@code callable}; its answer is queued under {@code handle} when it ends. */
    void start(long handle, DurableCallable<?> callable) {
        if (pool == null) {
            AtomicInteger n = new AtomicInteger();
            pool =
                    Executors.newFixedThreadPool(
                            threads,
                            r -> {
                                Thread t = new Thread(r, "flink-agents-java-call-" + n.getAndIncrement());
                                t.setDaemon(true);
                                return t;
                            });
        }
        pool.execute(
                () -> {
                    String answer;
                    try {
                        answer = ActionHost.answerOf(callable);
                    } catch (Throwable t) { // never lose a call: its key would wait forever
                        answer = Answers.problem("JavaCallError", "the call's outcome was lost: " + t);
                    }
                    List<Object> done = new ArrayList<>(2);
                    done.add(handle);
                    done.add(answer);
                    completed.add(done);
                });
    }

    /** @return the wire text of {@code [[handle, answer], ...]} for every call ended since the last time */
    String takeCompleted() {
        List<Object> out = new ArrayList<>();
        for (List<Object> done; (done = completed.poll()) != null; ) {
            out.add(done);
        }
        return Wire.encode(out);
    }

    /** Stops the threads; calls still running are abandoned. */
    void close() {
        if (pool != null) {
            pool.shutdownNow();
            pool = null;
        }
        completed.clear();
    }
}

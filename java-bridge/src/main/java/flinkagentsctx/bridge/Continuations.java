package flinkagentsctx.bridge;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * The JDK's internal one-shot continuations ({@code jdk.internal.vm.Continuation}, JDK 21), reached
 * through method handles so that the bridge compiles for Java 17. They are available when the JVM
 * runs with {@code --add-exports java.base/jdk.internal.vm=ALL-UNNAMED}; {@link #available()} says
 * whether they are, and {@link #unavailableReason()} why not.
 */
final class Continuations {
    private static final MethodHandle NEW_SCOPE;
    private static final MethodHandle NEW_CONTINUATION;
    private static final MethodHandle RUN;
    private static final MethodHandle IS_DONE;
    private static final MethodHandle YIELD;
    private static final String UNAVAILABLE;

    static {
        MethodHandle newScope = null;
        MethodHandle newContinuation = null;
        MethodHandle run = null;
        MethodHandle isDone = null;
        MethodHandle yield = null;
        String reason = null;
        try {
            Class<?> scope = Class.forName("jdk.internal.vm.ContinuationScope");
            Class<?> continuation = Class.forName("jdk.internal.vm.Continuation");
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            newScope = lookup.findConstructor(scope, MethodType.methodType(void.class, String.class));
            newContinuation =
                    lookup.findConstructor(
                            continuation, MethodType.methodType(void.class, scope, Runnable.class));
            run = lookup.findVirtual(continuation, "run", MethodType.methodType(void.class));
            isDone = lookup.findVirtual(continuation, "isDone", MethodType.methodType(boolean.class));
            yield = lookup.findStatic(continuation, "yield", MethodType.methodType(boolean.class, scope));
        } catch (ClassNotFoundException e) {
            reason = "this JVM (Java " + System.getProperty("java.version") + ") has no "
                    + "jdk.internal.vm.Continuation; run the TaskManager on JDK 21";
        } catch (ReflectiveOperationException | RuntimeException e) {
            reason = "jdk.internal.vm.Continuation is not accessible (" + e.getMessage() + "); start "
                    + "the TaskManager JVM with --add-exports java.base/jdk.internal.vm=ALL-UNNAMED";
        }
        NEW_SCOPE = newScope;
        NEW_CONTINUATION = newContinuation;
        RUN = run;
        IS_DONE = isDone;
        YIELD = yield;
        UNAVAILABLE = reason;
    }

    private Continuations() {}

    static boolean available() {
        return UNAVAILABLE == null;
    }

    static String unavailableReason() {
        return UNAVAILABLE;
    }

    /** A scope continuations run in and yield to. */
    static Object scope(String name) {
        try {
            return NEW_SCOPE.invoke(name);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A continuation that runs {@code body} in {@code scope} when {@link #run} is called. */
    static Object create(Object scope, Runnable body) {
        try {
            return NEW_CONTINUATION.invoke(scope, body);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Runs the continuation until it yields or ends. */
    static void run(Object continuation) {
        try {
            RUN.invoke(continuation);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static boolean isDone(Object continuation) {
        try {
            return (boolean) IS_DONE.invoke(continuation);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Suspends the running continuation of {@code scope}.
     *
     * @throws IllegalStateException the continuation is pinned (a native frame or a monitor is
     *     on its stack) and cannot yield
     */
    static void yieldTo(Object scope) {
        boolean yielded;
        try {
            yielded = (boolean) YIELD.invoke(scope);
        } catch (IllegalStateException e) {
            // JDK 21 refuses to yield a pinned continuation with "Pinned: MONITOR" (or NATIVE).
            throw new IllegalStateException(
                    "the action could not be suspended (" + e.getMessage() + "): do not call "
                            + "durableExecuteAsync inside a synchronized block or from native code",
                    e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (!yielded) {
            throw new IllegalStateException(
                    "the action could not be suspended (it holds a monitor: do not call "
                            + "durableExecuteAsync inside a synchronized block)");
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException) {
            return (RuntimeException) t;
        }
        if (t instanceof Error) {
            throw (Error) t;
        }
        return new IllegalStateException(t);
    }
}

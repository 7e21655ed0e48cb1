package flinkagentsctx.bridge;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.function.Function;

/** A {@link PythonPort} that records calls and answers from a script. */
final class FakePort implements PythonPort {
    final List<String> calls = new ArrayList<>();
    private final Deque<Function<Object[], String>> answers = new ArrayDeque<>();

    FakePort answer(String text) {
        answers.add(args -> text);
        return this;
    }

    FakePort answer(Function<Object[], String> fn) {
        answers.add(fn);
        return this;
    }

    @Override
    public String call(String method, Object... args) {
        calls.add(method + Arrays.asList(args));
        Function<Object[], String> next = answers.poll();
        if (next == null) {
            throw new AssertionError("unexpected call " + method + Arrays.asList(args));
        }
        return next.apply(args);
    }
}

package flinkagentsctx.testing;

import java.io.File;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * Runs the Java unit tests without a test framework: every public class whose name ends in {@code
 * Test} in the jar this runner was loaded from, every public no-argument method whose name starts
 * with {@code test}, on a fresh instance. Prints one line per test and exits non-zero when any
 * failed.
 *
 * <p>Usage: {@code java -cp tests.jar:bridge.jar:flink-python.jar
 * flinkagentsctx.testing.TestRunner <project tests dir>}
 */
public final class TestRunner {
    private static Path testsDir = Paths.get("tests");

    private TestRunner() {}

    /** @return the project's {@code tests/} directory (shared fixtures such as wire cases) */
    public static Path testsDir() {
        return testsDir;
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0) {
            testsDir = Paths.get(args[0]);
        }
        File jar = new File(TestRunner.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> classes = new ArrayList<>();
        try (JarFile file = new JarFile(jar)) {
            for (Enumeration<JarEntry> e = file.entries(); e.hasMoreElements(); ) {
                String name = e.nextElement().getName();
                if (name.endsWith("Test.class") && !name.contains("$")) {
                    classes.add(name.substring(0, name.length() - 6).replace('/', '.'));
                }
            }
        }
        classes.sort(null);
        int passed = 0;
        List<String> failed = new ArrayList<>();
        for (String className : classes) {
            Class<?> klass = Class.forName(className);
            if (!Modifier.isPublic(klass.getModifiers())) {
                continue;
            }
            List<Method> methods = new ArrayList<>();
            for (Method m : klass.getMethods()) {
                if (m.getName().startsWith("test") && m.getParameterCount() == 0) {
                    methods.add(m);
                }
            }
            methods.sort((a, b) -> a.getName().compareTo(b.getName()));
            for (Method m : methods) {
                String id = klass.getSimpleName() + "." + m.getName();
                try {
                    m.invoke(klass.getDeclaredConstructor().newInstance());
                    passed++;
                    System.out.println("PASS " + id);
                } catch (InvocationTargetException e) {
                    failed.add(id);
                    System.out.println("FAIL " + id);
                    e.getCause().printStackTrace(System.out);
                }
            }
        }
        System.out.println(
                "java-bridge tests: " + passed + " passed, " + failed.size() + " failed"
                        + (failed.isEmpty() ? "" : " " + failed));
        System.exit(failed.isEmpty() && passed > 0 ? 0 : 1);
    }
}

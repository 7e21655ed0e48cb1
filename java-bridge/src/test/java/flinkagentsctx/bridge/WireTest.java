package flinkagentsctx.bridge;

import flinkagentsctx.api.Event;
import flinkagentsctx.api.MemoryRef;
import flinkagentsctx.testing.Check;
import flinkagentsctx.testing.TestRunner;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public class WireTest {

    private static Map<String, Object> map(Object... pairs) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put((String) pairs[i], pairs[i + 1]);
        }
        return m;
    }

    /** The Java value of each case in tests/wire/cases-v1.json (the Python test has its own). */
    private static Map<String, Object> expected() {
        Map<String, Object> e = new HashMap<>();
        e.put("null", null);
        e.put("true", Boolean.TRUE);
        e.put("int", 42L);
        e.put("negative_int", -7L);
        e.put("long_max", Long.MAX_VALUE);
        e.put("big_int", BigInteger.ONE.shiftLeft(70));
        e.put("float", 1.5);
        e.put("string", "h\u00e9llo \"q\"\n\t\u20ac\ud83d\ude00");
        e.put("empty_string", "");
        e.put("bytes", new byte[] {0, 1, (byte) 0xfe, (byte) 0xff});
        e.put("nan", Double.NaN);
        e.put("infinity", Double.POSITIVE_INFINITY);
        e.put("minus_infinity", Double.NEGATIVE_INFINITY);
        e.put("list", new ArrayList<>(Arrays.asList(1L, "a", null, new ArrayList<>(Arrays.asList(true)))));
        e.put("map", map("a", 1L, "b", map("c", new ArrayList<>(Arrays.asList(1.25)))));
        e.put("dollar_keys", map("$bytes", "x", "$$y", 2L));
        e.put("empty_map", map());
        e.put("memory_ref", new MemoryRef("short_term", "user.name"));
        return e;
    }

    private static Map<?, ?> cases() throws Exception {
        byte[] bytes = Files.readAllBytes(TestRunner.testsDir().resolve("wire").resolve("cases-v1.json"));
        return (Map<?, ?>) Json.read(new String(bytes, StandardCharsets.UTF_8));
    }

    public void testCasesDecodeAndEncodeAsThePythonSideDoes() throws Exception {
        Map<?, ?> file = cases();
        Check.equal((long) Wire.VERSION, file.get("version"));
        Map<String, Object> expected = expected();
        int checked = 0;
        for (Object item : (List<?>) file.get("cases")) {
            Map<?, ?> c = (Map<?, ?>) item;
            String name = (String) c.get("name");
            String text = (String) c.get("wire");
            Object decoded = Wire.decode(text);
            if (name.equals("memory_object")) {
                Wire.ObjectPath path = (Wire.ObjectPath) decoded;
                Check.equal("sensory", path.memoryType);
                Check.equal("a.b", path.path);
                checked++;
                continue;
            }
            Check.isTrue(expected.containsKey(name), "the Java test has no expected value for case " + name);
            Check.equal(expected.get(name), decoded);
            if (Boolean.TRUE.equals(c.get("canonical"))) {
                Check.equal(text, Wire.encode(expected.get(name)));
            }
            checked++;
        }
        Check.equal(expected.size() + 1, checked);
    }

    public void testEventCase() throws Exception {
        Map<?, ?> c = (Map<?, ?>) ((List<?>) cases().get("events")).get(0);
        Event event = Wire.decodeEvent((String) c.get("wire"));
        Check.isTrue(event.isType("OutputEvent"), "plain type name matches");
        Check.equal(Event.OUTPUT, event.getType());
        Check.equal("e-1", event.getId());
        Check.equal(1700000000000L, event.getSourceTimestamp());
        Check.equal(map("n", 1L, "b", new byte[] {1, 2}), event.get("output"));
        Check.equal(c.get("wire"), Wire.encodeEvent(event));
    }

    public void testIntegersOfEveryWidthEncodeAsWholeNumbers() {
        Check.equal("[1,2,3,4]", Wire.encode(Arrays.asList((byte) 1, (short) 2, 3, 4L)));
    }

    public void testValueWithoutWireFormNamesWhere() {
        IllegalArgumentException e =
                Check.raises(
                        IllegalArgumentException.class,
                        () -> Wire.encode(map("a", Arrays.asList(1, new Object()))));
        Check.contains(e.getMessage(), "value.a[1]");
        Check.contains(e.getMessage(), "java.lang.Object");
    }

    public void testUnknownTagIsRefused() {
        IllegalArgumentException e =
                Check.raises(IllegalArgumentException.class, () -> Wire.decode("{\"$set\":[1]}"));
        Check.contains(e.getMessage(), "$set");
    }

    public void testJsonRejectsBadText() {
        Check.contains(
                Check.raises(IllegalArgumentException.class, () -> Json.read("[1,")).getMessage(),
                "offset");
        Check.contains(
                Check.raises(IllegalArgumentException.class, () -> Json.read("{} x")).getMessage(),
                "after the value");
    }

    public void testJsonNumbers() {
        Check.equal(-9223372036854775808L, Json.read("-9223372036854775808"));
        Check.equal(new BigInteger("9223372036854775808"), Json.read("9223372036854775808"));
        Check.equal(1.0e20, Json.read("1e+20"));
        Check.equal(-0.5, Json.read("-0.5"));
    }
}

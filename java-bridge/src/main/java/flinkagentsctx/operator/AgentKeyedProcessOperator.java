package flinkagentsctx.operator;

import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.UUID;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.functions.python.DataStreamPythonFunctionInfo;
import org.apache.flink.streaming.api.operators.python.embedded.AbstractEmbeddedDataStreamPythonFunctionOperator;
import org.apache.flink.streaming.api.operators.python.embedded.AbstractEmbeddedPythonFunctionOperator;
import org.apache.flink.streaming.api.operators.python.embedded.EmbeddedPythonKeyedProcessOperator;

/**
 * The agent operator in thread mode: PyFlink's embedded keyed process operator, plus a call into
 * Python before every checkpoint barrier (checkpoints and savepoints alike).
 *
 * <p>The agent function holds committed short-term memory writes in Python between records; this
 * call is where they go to keyed state, so that every snapshot holds them. The Python side is
 * {@code flink_agents_ctx.operator.barrier}: after the function has opened, this operator claims it
 * with a token of its own and names that token on every barrier.
 *
 * <p>The operator's Python interpreter is reached by reflection, never by its type: on a cluster
 * whose {@code lib/} holds flink-python and whose jobs ship it again, naming pemja's types here
 * would load a second copy of them in the job's class loader (a LinkageError).
 */
public class AgentKeyedProcessOperator<K, IN, OUT> extends EmbeddedPythonKeyedProcessOperator<K, IN, OUT> {

    private static final long serialVersionUID = 1L;

    /** The name the barrier module gets in the operator's Python globals. */
    private static final String BARRIER = "_flink_agents_ctx_barrier";

    private final TypeInformation<IN> inputType;

    private transient Object python;
    private transient Method invokeMethod;
    private transient String token;

    public AgentKeyedProcessOperator(
            Configuration config,
            DataStreamPythonFunctionInfo functionInfo,
            TypeInformation<IN> inputType,
            TypeInformation<OUT> outputType) {
        super(config, functionInfo, inputType, outputType);
        this.inputType = inputType;
    }

    @Override
    public void open() throws Exception {
        super.open();
        Field field = AbstractEmbeddedPythonFunctionOperator.class.getDeclaredField("interpreter");
        field.setAccessible(true);
        python = field.get(this);
        Class<?> type = python.getClass();
        invokeMethod = type.getMethod("invokeMethod", String.class, String.class, Object[].class);
        type.getMethod("exec", String.class)
                .invoke(python, "import flink_agents_ctx.operator.barrier as " + BARRIER);
        token = UUID.randomUUID().toString();
        callBarrier("claim");
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        if (token != null) {
            callBarrier("before_snapshot");
        }
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    @Override
    public void close() throws Exception {
        try {
            if (token != null && python != null) {
                callBarrier("release");
            }
        } finally {
            token = null;
            super.close();
        }
    }

    /** PyFlink merges chained Python functions into a copy of the head operator: keep this class. */
    @Override
    public <T> AbstractEmbeddedDataStreamPythonFunctionOperator<T> copy(
            DataStreamPythonFunctionInfo functionInfo, TypeInformation<T> outputType) {
        return new AgentKeyedProcessOperator<>(config, functionInfo, inputType, outputType);
    }

    private void callBarrier(String function) throws Exception {
        try {
            invokeMethod.invoke(python, BARRIER, function, new Object[] {token});
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            throw cause instanceof Exception ? (Exception) cause : e;
        }
    }
}

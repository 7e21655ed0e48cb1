package flinkagentsctx.operator;

import java.util.UUID;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.functions.python.DataStreamPythonFunctionInfo;
import org.apache.flink.streaming.api.operators.python.embedded.AbstractEmbeddedDataStreamPythonFunctionOperator;
import org.apache.flink.streaming.api.operators.python.embedded.EmbeddedPythonKeyedProcessOperator;

/**
 * The agent operator in thread mode: PyFlink's embedded keyed process operator, plus a call into
 * Python before every checkpoint barrier (checkpoints and savepoints alike).
 *
 * <p>The agent function holds committed short-term memory writes in Python between records; this
 * call is where they go to keyed state, so that every snapshot holds them. The Python side is
 * {@code flink_agents_ctx.operator.barrier}: after the function has opened, this operator claims it
 * with a token of its own and names that token on every barrier.
 */
public class AgentKeyedProcessOperator<K, IN, OUT> extends EmbeddedPythonKeyedProcessOperator<K, IN, OUT> {

    private static final long serialVersionUID = 1L;

    /** The name the barrier module gets in the operator's Python globals. */
    private static final String BARRIER = "_flink_agents_ctx_barrier";

    private final TypeInformation<IN> inputType;

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
        token = UUID.randomUUID().toString();
        interpreter.exec("import flink_agents_ctx.operator.barrier as " + BARRIER);
        interpreter.invokeMethod(BARRIER, "claim", token);
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        if (token != null) {
            interpreter.invokeMethod(BARRIER, "before_snapshot", token);
        }
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    @Override
    public void close() throws Exception {
        try {
            if (token != null && interpreter != null) {
                interpreter.invokeMethod(BARRIER, "release", token);
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
}

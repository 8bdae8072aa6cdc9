package io.pgrelay.agent.jmh;

import io.pgrelay.agent.core.Lsn;
import io.pgrelay.agent.event.BuiltinTypes;
import io.pgrelay.agent.event.ChangeEvent;
import io.pgrelay.agent.event.EventEncoder;
import io.pgrelay.agent.event.Op;
import io.pgrelay.agent.pgoutput.Insert;
import io.pgrelay.agent.pgoutput.PgMessage;
import io.pgrelay.agent.pgoutput.PgOutputDecoder;
import io.pgrelay.agent.pgoutput.Relation;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Events per second on one core: the pgoutput decoder (an Insert message → its record), the event
 * encoder (a change → JSON value and key, the agent's per-event work before Kafka), and both in a
 * row. Two row shapes: the benchmark's table ({@code id bigint, version int, payload text} with a
 * ~100-byte payload) and a 5-column order row with text that needs escaping, a numeric, a
 * timestamptz and a boolean.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgs = {"-Xmx256m"})
@Threads(1)
public class DecodeEncodeBench {

    @Param({"bench", "orders"})
    public String row;

    private byte[] message;
    private Relation relation;
    private PgOutputDecoder decoder;
    private EventEncoder encoder;
    private Insert decoded;
    private long n;

    @Setup
    public void setUp() throws IOException {
        if (row.equals("bench")) {
            relation = new Relation(16400, "public", "bench_b1_t", Relation.IDENTITY_DEFAULT, List.of(
                    new Relation.Column(true, "id", BuiltinTypes.INT8, -1),
                    new Relation.Column(false, "version", BuiltinTypes.INT4, -1),
                    new Relation.Column(false, "payload", BuiltinTypes.TEXT, -1)));
            message = insertMessage(16400, "123456", "0", "x".repeat(100) + "123456");
        } else {
            relation = new Relation(16401, "public", "orders", Relation.IDENTITY_DEFAULT, List.of(
                    new Relation.Column(true, "id", BuiltinTypes.INT8, -1),
                    new Relation.Column(false, "customer", BuiltinTypes.TEXT, -1),
                    new Relation.Column(false, "total", BuiltinTypes.NUMERIC, -1),
                    new Relation.Column(false, "placed_at", BuiltinTypes.TIMESTAMPTZ, -1),
                    new Relation.Column(false, "paid", BuiltinTypes.BOOL, -1)));
            message = insertMessage(16401, "123456", "Jane \"JJ\" Doe", "1234.50", "2026-11-22 10:15:30.123456+00", "t");
        }
        decoder = new PgOutputDecoder();
        encoder = new EventEncoder("bench", BuiltinTypes.CATALOG);
        encoder.register(relation);
        decoded = (Insert) decoder.decode(ByteBuffer.wrap(message));
    }

    @Benchmark
    public PgMessage decode() {
        return decoder.decode(ByteBuffer.wrap(message));
    }

    @Benchmark
    public void encode(Blackhole bh) {
        ChangeEvent event = event(decoded);
        bh.consume(encoder.value(event));
        bh.consume(encoder.key(event));
    }

    @Benchmark
    public void decodeAndEncode(Blackhole bh) {
        ChangeEvent event = event((Insert) decoder.decode(ByteBuffer.wrap(message)));
        bh.consume(encoder.value(event));
        bh.consume(encoder.key(event));
    }

    private ChangeEvent event(Insert insert) {
        n++;
        return new ChangeEvent(Op.INSERT, relation, null, insert.newTuple(), Lsn.of(0x1A2B3C4L + n), Lsn.of(0x1A2B400L + n),
                771, n, 1_795_342_530_123_456L);
    }

    /** A pgoutput Insert: 'I', relation id, 'N', column count, then each column as 't' + length + text. */
    private static byte[] insertMessage(int relationId, String... values) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeByte('I');
        out.writeInt(relationId);
        out.writeByte('N');
        out.writeShort(values.length);
        for (String value : values) {
            byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
            out.writeByte('t');
            out.writeInt(utf8.length);
            out.write(utf8);
        }
        return bytes.toByteArray();
    }
}

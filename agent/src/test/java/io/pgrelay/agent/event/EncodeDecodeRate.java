package io.pgrelay.agent.event;

import io.pgrelay.agent.core.Lsn;
import io.pgrelay.agent.pgoutput.Insert;
import io.pgrelay.agent.pgoutput.PgOutputDecoder;
import io.pgrelay.agent.pgoutput.Relation;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Prints how many 5-column rows per second one thread decodes (pgoutput Insert → record) and
 * encodes (ChangeEvent → JSON value + key). A rough gauge, not a benchmark harness: run it on a
 * quiet machine, {@code java -cp … io.pgrelay.agent.event.EncodeDecodeRate [seconds]}.
 */
public final class EncodeDecodeRate {

    private static final String[] ROW = {"123456", "Jane \"JJ\" Doe", "1234.50", "2026-11-22 10:15:30.123456+00", "t"};

    public static void main(String[] args) throws IOException {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 3;
        byte[] message = insertMessage();
        Relation relation = new Relation(16400, "public", "orders", 'd', List.of(
                new Relation.Column(true, "id", BuiltinTypes.INT8, -1),
                new Relation.Column(false, "customer", BuiltinTypes.TEXT, -1),
                new Relation.Column(false, "total", BuiltinTypes.NUMERIC, -1),
                new Relation.Column(false, "placed_at", BuiltinTypes.TIMESTAMPTZ, -1),
                new Relation.Column(false, "paid", BuiltinTypes.BOOL, -1)));
        PgOutputDecoder decoder = new PgOutputDecoder();
        java.util.Map<String, RowEncoder> encoders = new java.util.LinkedHashMap<>();
        encoders.put("encode pgrelay json", new EventEncoder("demo", BuiltinTypes.CATALOG));
        for (boolean schemas : new boolean[] {false, true}) {
            encoders.put("encode debezium " + (schemas ? "json-schema" : "json"), new DebeziumEncoder(
                    io.pgrelay.agent.config.FormatConfig.Debezium.DEFAULT, schemas, "demo", "app",
                    t -> "demo." + t.schema() + "." + t.table(), BuiltinTypes.CATALOG));
        }
        int[] ids = {0};
        encoders.put("encode debezium avro", new AvroEncoder(new DebeziumEncoder(
                io.pgrelay.agent.config.FormatConfig.Debezium.DEFAULT, false, "demo", "app",
                t -> "demo." + t.schema() + "." + t.table(), BuiltinTypes.CATALOG),
                (subject, schema, context) -> ++ids[0], t -> "demo." + t.schema() + "." + t.table()));
        encoders.values().forEach(e -> e.register(relation));

        long sink = 0;
        for (int round = 0; round < 2; round++) {   // the first round warms the JIT up
            long n = 0;
            long start = System.nanoTime();
            long deadline = start + (long) (seconds * 1e9);
            while ((n & 1023) != 0 || System.nanoTime() < deadline) {
                Insert insert = (Insert) decoder.decode(ByteBuffer.wrap(message));
                sink += insert.newTuple().length(1);
                n++;
            }
            report(round, "decode", n, System.nanoTime() - start);

            Insert insert = (Insert) decoder.decode(ByteBuffer.wrap(message));
            for (java.util.Map.Entry<String, RowEncoder> named : encoders.entrySet()) {
                RowEncoder encoder = named.getValue();
                n = 0;
                start = System.nanoTime();
                deadline = start + (long) (seconds * 1e9);
                while ((n & 1023) != 0 || System.nanoTime() < deadline) {
                    ChangeEvent event = new ChangeEvent(Op.INSERT, relation, null, insert.newTuple(), Lsn.of(0x1A2B3C4L + n),
                            Lsn.of(0x1A2B400L + n), 771, n, 1_795_342_530_123_456L);
                    sink += encoder.value(event).length + encoder.key(event).length;
                    n++;
                }
                report(round, named.getKey(), n, System.nanoTime() - start);
            }
        }
        System.out.println("(checksum " + sink + ")");
    }

    private static void report(int round, String what, long n, long nanos) {
        if (round > 0) {
            System.out.printf("%s: %,d rows/s (5 columns, one thread)%n", what, (long) (n / (nanos / 1e9)));
        }
    }

    private static byte[] insertMessage() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeByte('I');
        out.writeInt(16400);
        out.writeByte('N');
        out.writeShort(ROW.length);
        for (String value : ROW) {
            byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
            out.writeByte('t');
            out.writeInt(utf8.length);
            out.write(utf8);
        }
        return bytes.toByteArray();
    }
}

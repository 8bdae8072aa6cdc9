package io.pgrelay.agent.event;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static io.pgrelay.agent.event.Json.value;
import static org.assertj.core.api.Assertions.assertThat;

/** Encodes text that a real PostgreSQL wrote, and checks the JSON means the same values. */
class ValuesFromPostgresTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static EmbeddedPostgres pg;
    private static Connection connection;

    @BeforeAll
    static void start() throws Exception {
        pg = EmbeddedPostgres.builder().start();
        connection = pg.getPostgresDatabase().getConnection();
        try (Statement s = connection.createStatement()) {
            s.execute("SET TimeZone = 'UTC'; SET DateStyle = 'ISO'; SET IntervalStyle = 'postgres'; SET bytea_output = 'hex'");
        }
    }

    @AfterAll
    static void stop() throws Exception {
        connection.close();
        pg.close();
    }

    private static String text(String sql, Object... params) throws Exception {
        try (PreparedStatement query = connection.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                query.setObject(i + 1, params[i]);
            }
            try (ResultSet rs = query.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    @Test
    void textArrayWithAwkwardElementsRoundTrips() throws Exception {
        String[] elements = {"plain", "with, comma", "{braces}", "\"quoted\"", "back\\slash", "", " padded ",
                "NULL", "null", "line\nbreak\ttab", "naïve ☃ 🎉", "\u0001ctl", null};
        String literal = text("SELECT ?::text[]::text", connection.createArrayOf("text", elements));

        JsonNode array = JSON.readTree(value(1009, literal));

        List<String> decoded = new ArrayList<>();
        array.forEach(e -> decoded.add(e.isNull() ? null : e.asText()));
        assertThat(decoded).isEqualTo(Arrays.asList(elements));
    }

    @Test
    void multiDimensionalArrayWithBoundsRoundTrips() throws Exception {
        String literal = text("SELECT '[0:1][1:2]={{1,NULL},{3,4}}'::int4[]::text");

        assertThat(literal).startsWith("[0:1][1:2]=");
        assertThat(value(1007, literal)).isEqualTo("[[1,null],[3,4]]");
    }

    @Test
    void jsonbArrayElementsAreEmbedded() throws Exception {
        String literal = text("SELECT ARRAY['{\"a\": \"x\\\"y\"}'::jsonb, 'null', '\"s\"', '[1, 2]', NULL]::text");

        assertThat(JSON.readTree(value(3807, literal)))
                .isEqualTo(JSON.readTree("[{\"a\": \"x\\\"y\"}, null, \"s\", [1, 2], null]"));
    }

    @Test
    void timestamptzInAnotherTimeZoneIsConvertedToUtc() throws Exception {
        try (Statement s = connection.createStatement()) {
            s.execute("SET TimeZone = 'Asia/Kolkata'");
            for (String instant : List.of("2026-11-22 10:15:30.123456+00", "1850-01-01 00:00:00+00", "2026-03-29 01:30:00.5+00")) {
                String local = text("SELECT ?::timestamptz::text", instant);
                String utc = text("SELECT (?::timestamptz AT TIME ZONE 'UTC')::text", instant);

                assertThat(value(1184, local)).as(local).isEqualTo("\"" + utc.replace(' ', 'T') + "Z\"");
            }
        } finally {
            try (Statement s = connection.createStatement()) {
                s.execute("SET TimeZone = 'UTC'");
            }
        }
    }

    @Test
    void floatOutputIsValidJson() throws Exception {
        for (String f : List.of("0.1", "1e300", "-0", "1.5e-300", "123456789012345678", "3.4028235e38")) {
            String literal = text("SELECT ?::float8::text", f);
            assertThat(JSON.readTree(value(701, literal)).isNumber()).as(literal).isTrue();
        }
        assertThat(value(700, text("SELECT 'NaN'::float4::text"))).isEqualTo("\"NaN\"");
        assertThat(value(701, text("SELECT '-Infinity'::float8::text"))).isEqualTo("\"-Infinity\"");
    }

    @Test
    void byteaOutputBecomesBase64OfTheSameBytes() throws Exception {
        byte[] bytes = {0, 1, (byte) 0xff, '"', '\\', 'x'};
        String literal = text("SELECT ?::bytea::text", (Object) bytes);

        assertThat(JSON.readTree(value(17, literal)).binaryValue()).isEqualTo(bytes);
    }
}

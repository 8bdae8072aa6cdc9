package io.pgrelay.it;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentProcess;
import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import io.pgrelay.sandbox.server.TopicReader;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every kind of column value, through the real agent, compared with PostgreSQL's own rendering of
 * the same row: the test asks PostgreSQL for {@code col::text} (and for arrays, each element) in a
 * session set up as DESIGN.md says the agent's are, and applies the "Value mapping" rules of
 * DESIGN.md, written out here again, independently of the encoder.
 */
@ExtendWith(SandboxExtension.class)
class ColumnTypesIT {

    /** How DESIGN.md maps a type's text form to JSON. */
    enum Rule { INT, FLOAT, NUMERIC, BOOL, JSON, BYTEA, DATE, TIMESTAMP, TIMESTAMPTZ, TEXT }

    /** A column: its SQL type, its mapping rule (the element's, for an array), and the values of rows 1, 2 and 3. */
    record Column(String name, String type, Rule rule, boolean array, String... values) {
    }

    private static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).build();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final Pattern BC = Pattern.compile("(\\d{4,})(-.*) BC");

    private final Sandbox sandbox = Sandbox.shared();
    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
    }

    private static List<Column> columns(String mood, String dom, String comp) {
        return List.of(
                new Column("c_int2", "int2", Rule.INT, false, "32767", "-32768", "0"),
                new Column("c_int4", "int4", Rule.INT, false, "2147483647", "-2147483648", "0"),
                new Column("c_int8", "int8", Rule.INT, false, "9223372036854775807", "-9223372036854775808", "0"),
                new Column("c_numeric", "numeric", Rule.NUMERIC, false,
                        "'123456789012345678901234567890.123456789'", "'-0.00000000000000000000000000001'", "'NaN'"),
                new Column("c_numeric_scale", "numeric(40,30)", Rule.NUMERIC, false,
                        "'3.141592653589793238462643383279'", "'-1'", "'0'"),
                new Column("c_float4", "float4", Rule.FLOAT, false, "'3.14'", "'NaN'", "'-Infinity'"),
                new Column("c_float8", "float8", Rule.FLOAT, false, "'2.718281828459045'", "'Infinity'", "'-1e-300'"),
                new Column("c_money", "money", Rule.TEXT, false, "'1234.56'", "'-0.01'", "'0'"),
                new Column("c_text", "text", Rule.TEXT, false,
                        "E'quote \" single '' backslash \\\\ newline \\n cr \\r tab \\t ctrl \\x01\\x1f\\x7f emoji \\U0001F600 \u00fc\u4e2d'",
                        "''", "'NULL'"),
                new Column("c_varchar", "varchar(20)", Rule.TEXT, false, "'varchar \u2713'", "''", "'x'"),
                new Column("c_char", "char(8)", Rule.TEXT, false, "'ab'", "'abcdefgh'", "' '"),
                new Column("c_qchar", "\"char\"", Rule.TEXT, false, "'x'", "'\"'", "'\\'"),
                new Column("c_name", "name", Rule.TEXT, false, "'pg_name'", "'Name With Space'", "'x'"),
                new Column("c_bytea", "bytea", Rule.BYTEA, false, "'\\x00ff10'", "''", "decode('deadbeefcafe01', 'hex')"),
                new Column("c_bool", "bool", Rule.BOOL, false, "true", "false", "true"),
                new Column("c_json", "json", Rule.JSON, false,
                        "'{\"a\": [1, 2.50, \"x\"],  \"b\": null, \"c\": \"\\u00e9\\\\n\"}'", "'[]'", "'\"str\"'"),
                new Column("c_jsonb", "jsonb", Rule.JSON, false,
                        "'{\"nested\": {\"deep\": [1, {\"k\": \"v\\\"q\"}], \"n\": null}, \"u\": \"\u00fc\", \"big\": 123456789012345678901234567890.5}'",
                        "'1.50'", "'null'"),
                new Column("c_int4_arr", "int4[]", Rule.INT, true, "'{1,2,3}'", "'{}'", "'{NULL,-1}'"),
                new Column("c_text_arr", "text[]", Rule.TEXT, true,
                        "ARRAY[NULL, 'a,b', '{brace}', 'quo\"te', 'NULL', 'null', 'back\\slash', ' spaced ', '', E'new\\nline']",
                        "'{}'", "ARRAY['\u00fc\u4e2d', 'x']"),
                new Column("c_jsonb_arr", "jsonb[]", Rule.JSON, true,
                        "ARRAY['{\"a\": 1}'::jsonb, '[1, \"x,y\"]', 'null', '\"s\"', NULL]", "'{}'", "ARRAY['{}'::jsonb]"),
                new Column("c_int4_2d", "int4[][]", Rule.INT, true, "'{{1,2},{3,4}}'", "'[0:1][1:1]={{7},{8}}'", "'{{NULL,5}}'"),
                new Column("c_uuid", "uuid", Rule.TEXT, false,
                        "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "'00000000-0000-0000-0000-000000000000'", "gen_random_uuid()"),
                new Column("c_inet", "inet", Rule.TEXT, false, "'192.168.0.1/24'", "'::1'", "'10.0.0.1'"),
                new Column("c_cidr", "cidr", Rule.TEXT, false, "'10.0.0.0/8'", "'2001:db8::/32'", "'192.168.1'"),
                new Column("c_macaddr", "macaddr", Rule.TEXT, false, "'08:00:2b:01:02:03'", "'08-00-2B-01-02-04'", "'0800.2b01.0205'"),
                new Column("c_macaddr8", "macaddr8", Rule.TEXT, false, "'08:00:2b:01:02:03:04:05'", "'0800.2b01.0203.0406'", "'08002b0102030407'"),
                new Column("c_date", "date", Rule.DATE, false, "'2026-11-22'", "'infinity'", "'0044-03-15 BC'"),
                new Column("c_time", "time", Rule.TEXT, false, "'23:59:59.999999'", "'00:00'", "'12:34:56.5'"),
                new Column("c_timetz", "timetz", Rule.TEXT, false, "'12:34:56+05:30'", "'00:00:00-08'", "'23:59:59.123+00'"),
                new Column("c_ts", "timestamp", Rule.TIMESTAMP, false,
                        "'2026-11-22 10:15:30.123456'", "'-infinity'", "'0044-03-15 10:00:00 BC'"),
                new Column("c_tstz", "timestamptz", Rule.TIMESTAMPTZ, false,
                        "'2026-11-22 10:15:30.5+05:30'", "'infinity'", "'0001-01-01 00:00:00+00 BC'"),
                new Column("c_interval", "interval", Rule.TEXT, false,
                        "'1 year 2 mons 3 days 04:05:06.789'", "'-1 day -00:00:01'", "'0'"),
                new Column("c_enum", mood, Rule.TEXT, false, "'happy'", "'with space'", "'quo\"te'"),
                new Column("c_enum_arr", mood + "[]", Rule.TEXT, true,
                        "ARRAY['happy', 'with space', 'quo\"te']::" + mood + "[]", "'{}'", "ARRAY[NULL]::" + mood + "[]"),
                new Column("c_domain", dom, Rule.INT, false, "42", "-7", "0"),
                new Column("c_domain_arr", dom + "[]", Rule.INT, true, "'{1,2}'", "'{NULL}'", "'{}'"),
                new Column("c_int4range", "int4range", Rule.TEXT, false, "'[1,10)'", "'empty'", "'(,5]'"),
                new Column("c_tsrange", "tsrange", Rule.TEXT, false,
                        "'[2026-01-01 00:00,2026-12-31 23:59:59)'", "'(,infinity)'", "'empty'"),
                new Column("c_numrange", "numrange", Rule.TEXT, false, "'(1.5,2.5]'", "'[0,)'", "'empty'"),
                new Column("c_int4multirange", "int4multirange", Rule.TEXT, false, "'{[1,3),[5,7)}'", "'{}'", "'{(,)}'"),
                new Column("c_composite", comp, Rule.TEXT, false,
                        "ROW(1, 'x, \"y\" (z)', 2.5)", "ROW(NULL, '', NULL)", "ROW(-1, 'NULL', 'NaN')"),
                new Column("c_composite_arr", comp + "[]", Rule.TEXT, true,
                        "ARRAY[ROW(1, 'a\"b', NULL)::" + comp + ", ROW(2, '{c}', 1)::" + comp + "]", "'{}'", "ARRAY[NULL]::" + comp + "[]"),
                new Column("c_point", "point", Rule.TEXT, false, "'(1.5,-2)'", "'(0,0)'", "'(1e+20,3)'"),
                new Column("c_line", "line", Rule.TEXT, false, "'{1,2,3}'", "'{0,-1,0}'", "'{1,0,-5}'"),
                new Column("c_lseg", "lseg", Rule.TEXT, false, "'[(0,0),(1,1)]'", "'[(1,2),(3,4)]'", "'[(0,0),(0,0)]'"),
                new Column("c_box", "box", Rule.TEXT, false, "'(1,1),(0,0)'", "'(2,2),(-1,-1)'", "'(0,0),(0,0)'"),
                new Column("c_box_arr", "box[]", Rule.TEXT, true,
                        "ARRAY['(1,1),(0,0)'::box, '(3,3),(2,2)'::box]", "'{}'", "ARRAY[NULL::box, '(1,1),(0,0)'::box]"),
                new Column("c_circle", "circle", Rule.TEXT, false, "'<(1,2),3>'", "'<(0,0),0.5>'", "'<(-1,-1),1>'"),
                new Column("c_path", "path", Rule.TEXT, false, "'[(0,0),(1,1),(2,0)]'", "'((0,0),(1,1))'", "'[(0,0)]'"),
                new Column("c_polygon", "polygon", Rule.TEXT, false, "'((0,0),(1,1),(1,0))'", "'((0,0))'", "'((1,2),(3,4),(5,6),(7,8))'"),
                new Column("c_tsvector", "tsvector", Rule.TEXT, false,
                        "'a fat cat sat on a mat'", "to_tsvector('english', 'The quick brown foxes')", "''"),
                new Column("c_tsquery", "tsquery", Rule.TEXT, false, "'fat & (rat | cat)'", "'!a <-> b'", "'x:*'"),
                new Column("c_xml", "xml", Rule.TEXT, false,
                        "'<a x=\"1\">text &amp; more \u00fc</a>'", "'<empty/>'", "'plain text'"),
                new Column("c_bit", "bit(8)", Rule.TEXT, false, "B'10101010'", "B'00000000'", "B'11111111'"),
                new Column("c_varbit", "varbit", Rule.TEXT, false, "B'101'", "B''", "B'1'"),
                new Column("c_oid", "oid", Rule.TEXT, false, "4294967295", "0", "1259"),
                new Column("c_pg_lsn", "pg_lsn", Rule.TEXT, false, "'16/3002D50'", "'0/0'", "'FFFFFFFF/FFFFFFFF'"),
                new Column("c_int2vector", "int2vector", Rule.TEXT, false, "'1 2 3'", "''", "'7'"),
                new Column("c_bool_arr", "bool[]", Rule.BOOL, true, "'{t,f,NULL}'", "'{}'", "'{true}'"),
                new Column("c_float8_arr", "float8[]", Rule.FLOAT, true, "'{NaN,Infinity,-Infinity,1.5,-0}'", "'{}'", "'{1e300}'"),
                new Column("c_numeric_arr", "numeric[]", Rule.NUMERIC, true, "'{1.10,NaN,-3}'", "'{}'", "'{NULL}'"),
                new Column("c_bytea_arr", "bytea[]", Rule.BYTEA, true, "ARRAY['\\x0102'::bytea, '', NULL]", "'{}'", "ARRAY['\\xff'::bytea]"),
                new Column("c_date_arr", "date[]", Rule.DATE, true, "'{2026-01-31,infinity}'", "'{}'", "'{NULL}'"),
                new Column("c_ts_arr", "timestamp[]", Rule.TIMESTAMP, true, "'{\"2026-01-31 01:02:03.5\",-infinity}'", "'{}'", "'{NULL}'"),
                new Column("c_tstz_arr", "timestamptz[]", Rule.TIMESTAMPTZ, true,
                        "'{\"2026-01-31 01:02:03+01\",infinity}'", "'{}'", "'{NULL}'"),
                new Column("c_uuid_arr", "uuid[]", Rule.TEXT, true, "ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid]", "'{}'", "'{NULL}'"),
                new Column("c_interval_arr", "interval[]", Rule.TEXT, true, "ARRAY['1 day 02:00'::interval, '-1 mon']", "'{}'", "'{NULL}'"));
    }

    @Test
    void everyColumnTypeArrivesAsPostgresRendersItMappedByDesign() throws Exception {
        String cluster = ItSupport.uniqueCluster("types");
        String mood = cluster + "_mood";
        String dom = cluster + "_posint";
        String comp = cluster + "_pair";
        String table = "public." + cluster + "_all";
        List<Column> columns = columns(mood, dom, comp);
        assertThat(columns).hasSizeGreaterThanOrEqualTo(40);

        StringBuilder create = new StringBuilder("CREATE TABLE " + table + " (id int4, kt timestamptz");
        columns.forEach(c -> create.append(", ").append(c.name()).append(' ').append(c.type()));
        create.append(", PRIMARY KEY (id, kt))");
        sandbox.postgres().execute(
                "CREATE TYPE " + mood + " AS ENUM ('happy', 'with space', 'quo\"te')",
                "CREATE DOMAIN " + dom + " AS int4 CHECK (VALUE > -100)",
                "CREATE TYPE " + comp + " AS (a int4, b text, c numeric)",
                create.toString());
        cleanup.add(() -> sandbox.postgres().execute("DROP TABLE IF EXISTS " + table,
                "DROP TYPE IF EXISTS " + comp, "DROP DOMAIN IF EXISTS " + dom, "DROP TYPE IF EXISTS " + mood));
        AgentConfigs configs = new AgentConfigs(sandbox, cluster).tables(table);
        cleanup.add(() -> ItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot()));
        AgentProcess agent = ItSupport.startAgent(configs, "agent-1");
        cleanup.add(agent);   // closed first: the slot is dropped once the agent is gone
        ItSupport.awaitSlotActive(sandbox, configs.slot(), Duration.ofSeconds(30));

        // Row 4: every column but the key NULL. The key's timestamptz is given at +02 to be shifted to UTC.
        String[] keys = {"'2026-11-22 10:15:30.123456+00'", "'1999-12-31 23:59:59+02'", "'2000-01-01 00:00:00.5+00'",
                "'2026-01-01 00:00:00+00'"};
        List<String> inserts = new ArrayList<>();
        for (int row = 1; row <= 4; row++) {
            StringBuilder insert = new StringBuilder("INSERT INTO " + table + " (id, kt");
            columns.forEach(c -> insert.append(", ").append(c.name()));
            insert.append(") VALUES (").append(row).append(", ").append(keys[row - 1]);
            for (Column c : columns) {
                insert.append(", ").append(row == 4 ? "NULL" : c.values()[row - 1]);
            }
            inserts.add(insert.append(')').toString());
        }
        sandbox.postgres().execute(inserts.toArray(String[]::new));

        Map<Integer, ObjectNode> inserted = new LinkedHashMap<>();
        try (Connection pg = renderingSession()) {
            for (int row = 1; row <= 4; row++) {
                inserted.put(row, expectedRow(pg, table, columns, row));
            }
            sandbox.postgres().execute("UPDATE " + table + " SET c_text = E'after\\tupdate \\U0001F680',"
                    + " c_jsonb = '{\"z\": [true, false]}', c_int4_arr = '{9,NULL}', c_tstz = '2030-06-01 12:00:00-07',"
                    + " c_bytea = NULL WHERE id = 1");
            ObjectNode updated = expectedRow(pg, table, columns, 1);
            ObjectNode deletedKey = key(inserted.get(2));
            sandbox.postgres().execute("DELETE FROM " + table + " WHERE id = 2");

            String topic = cluster + "." + table;
            try (TopicReader reader = new TopicReader(sandbox.kafka().bootstrapServers(), topic)) {
                List<ConsumerRecord<String, String>> records = reader.readAtLeast(7, Duration.ofSeconds(30));
                assertThat(records).as(agent.log()).hasSize(7);

                List<String> mismatches = new ArrayList<>();
                for (int row = 1; row <= 4; row++) {
                    JsonNode insert = parse(records.get(row - 1).value());
                    assertThat(insert.get("op").asText()).isEqualTo("insert");
                    assertThat(insert.get("unchanged")).isEqualTo(parse("[]"));
                    compareRow("insert of row " + row, inserted.get(row), insert.get("after"), mismatches);
                    compareRow("key of row " + row, key(inserted.get(row)), insert.get("key"), mismatches);
                    compareRow("record key of row " + row, key(inserted.get(row)), parse(records.get(row - 1).key()), mismatches);
                }

                JsonNode update = parse(records.get(4).value());
                assertThat(update.get("op").asText()).isEqualTo("update");
                compareRow("update of row 1", updated, update.get("after"), mismatches);
                compareRow("update's before (the key, REPLICA IDENTITY DEFAULT)", key(inserted.get(1)), update.get("before"), mismatches);
                assertThat(update.get("unchanged")).isEqualTo(parse("[]"));

                JsonNode delete = parse(records.get(5).value());
                assertThat(delete.get("op").asText()).isEqualTo("delete");
                compareRow("delete's before", deletedKey, delete.get("before"), mismatches);
                compareRow("delete's key", deletedKey, delete.get("key"), mismatches);
                compareRow("tombstone's key", deletedKey, parse(records.get(6).key()), mismatches);
                assertThat(records.get(6).value()).isNull();

                assertThat(mismatches).as("values that differ from PostgreSQL's rendering mapped by DESIGN.md").isEmpty();
            }
        }
    }

    /** A session rendering values as DESIGN.md says the agent's connections do. */
    private Connection renderingSession() throws SQLException {
        Connection c = sandbox.postgres().connect();
        try (Statement s = c.createStatement()) {
            s.execute("SET TimeZone = 'UTC'; SET DateStyle = 'ISO'; SET IntervalStyle = 'postgres'; SET bytea_output = 'hex'");
        }
        return c;
    }

    /** The row as DESIGN.md says the event's {@code after} must read, from PostgreSQL's own rendering of it. */
    private static ObjectNode expectedRow(Connection pg, String table, List<Column> columns, int id) throws SQLException {
        ObjectNode row = NODES.objectNode();
        StringBuilder select = new StringBuilder("SELECT " + textOf("id") + ", " + textOf("kt"));
        columns.forEach(c -> select.append(", ").append(textOf(c.name())).append(", ").append(c.name()));
        try (PreparedStatement s = pg.prepareStatement(select.append(" FROM ").append(table).append(" WHERE id = ?").toString())) {
            s.setInt(1, id);
            try (ResultSet rs = s.executeQuery()) {
                assertThat(rs.next()).as("row %d exists", id).isTrue();
                row.set("id", map(Rule.INT, rs.getString(1), null));
                row.set("kt", map(Rule.TIMESTAMPTZ, rs.getString(2), null));
                for (int i = 0; i < columns.size(); i++) {
                    Column c = columns.get(i);
                    String text = rs.getString(3 + 2 * i);
                    if (text == null) {
                        row.set(c.name(), NullNode.instance);
                    } else if (c.array()) {
                        row.set(c.name(), expectedArray(pg, table, c, id));
                    } else {
                        row.set(c.name(), map(c.rule(), text, c.rule() == Rule.BYTEA ? rs.getBytes(4 + 2 * i) : null));
                    }
                }
            }
        }
        return row;
    }

    /**
     * The value's text as its type's output function writes it — what pgoutput sends — or NULL.
     * Not {@code ::text}: bool, char(n), inet and cidr have casts to text that differ from their
     * output functions ({@code true}, trailing blanks trimmed, {@code /32} added).
     */
    private static String textOf(String column) {
        // num_nulls, not IS NULL: a composite whose fields are all NULL IS NULL, yet is a value.
        return "CASE WHEN num_nulls(" + column + ") = 1 THEN NULL ELSE format('%s', " + column + ") END";
    }

    /** An array column: its elements one by one (unnest, row-major), nested by the array's dimensions. */
    private static JsonNode expectedArray(Connection pg, String table, Column c, int id) throws SQLException {
        String value = "(SELECT " + c.name() + " FROM " + table + " WHERE id = " + id + ")";
        List<Integer> lengths = new ArrayList<>();
        try (Statement s = pg.createStatement();
             ResultSet rs = s.executeQuery("SELECT array_length(" + value + ", d) FROM generate_series(1, array_ndims("
                     + value + ")) AS d ORDER BY d")) {
            while (rs.next()) {
                lengths.add(rs.getInt(1));
            }
        }
        List<JsonNode> elements = new ArrayList<>();
        try (Statement s = pg.createStatement();
             // unnest in the select list: in FROM it would split composite elements into their fields.
             ResultSet rs = s.executeQuery("SELECT " + textOf("e") + ", e FROM (SELECT unnest(" + value + ") AS e) AS u")) {
            while (rs.next()) {
                String text = rs.getString(1);
                elements.add(text == null ? NullNode.instance
                        : map(c.rule(), text, c.rule() == Rule.BYTEA ? rs.getBytes(2) : null));
            }
        }
        if (lengths.isEmpty()) {
            return NODES.arrayNode();
        }
        return nest(elements, lengths, 0, new int[] {0});
    }

    private static ArrayNode nest(List<JsonNode> elements, List<Integer> lengths, int dimension, int[] next) {
        ArrayNode array = NODES.arrayNode();
        for (int i = 0; i < lengths.get(dimension); i++) {
            array.add(dimension + 1 == lengths.size() ? elements.get(next[0]++) : nest(elements, lengths, dimension + 1, next));
        }
        return array;
    }

    /** DESIGN.md's "Value mapping", applied to PostgreSQL's text form of one (non-null) value. */
    static JsonNode map(Rule rule, String text, byte[] bytes) {
        return switch (rule) {
            case INT -> {
                assertThat(text).matches("-?\\d+");
                yield parse(text);
            }
            case FLOAT -> text.equals("NaN") || text.equals("Infinity") || text.equals("-Infinity")
                    ? TextNode.valueOf(text) : parse(text);
            case BOOL -> BooleanNode.valueOf(switch (text) {
                case "t" -> true;
                case "f" -> false;
                default -> throw new AssertionError("bool renders as " + text);
            });
            case JSON -> parse(text);
            case BYTEA -> TextNode.valueOf(Base64.getEncoder().encodeToString(bytes));
            case DATE -> TextNode.valueOf(isoYear(text));
            case TIMESTAMP -> TextNode.valueOf(isInfinity(text) ? text : isoYear(text).replace(' ', 'T'));
            case TIMESTAMPTZ -> {
                if (isInfinity(text)) {
                    yield TextNode.valueOf(text);
                }
                String iso = isoYear(text);
                assertThat(iso).as("a UTC session renders timestamptz at +00").endsWith("+00");
                yield TextNode.valueOf(iso.substring(0, iso.length() - 3).replace(' ', 'T') + "Z");
            }
            case NUMERIC, TEXT -> TextNode.valueOf(text);
        };
    }

    private static boolean isInfinity(String text) {
        return text.equals("infinity") || text.equals("-infinity");
    }

    /**
     * A BC date in ISO-8601's astronomical year numbering, which has a year 0: 1 BC is 0000,
     * 44 BC is -0043. AD dates are unchanged.
     */
    private static String isoYear(String text) {
        Matcher bc = BC.matcher(text);
        if (!bc.matches()) {
            return text;
        }
        int astronomical = 1 - Integer.parseInt(bc.group(1));
        return (astronomical < 0 ? "-" : "") + String.format("%04d", Math.abs(astronomical)) + bc.group(2);
    }

    private static ObjectNode key(ObjectNode row) {
        ObjectNode key = NODES.objectNode();
        key.set("id", row.get("id"));
        key.set("kt", row.get("kt"));
        return key;
    }

    /** Collects every differing field (and missing or extra ones) rather than stopping at the first. */
    private static void compareRow(String what, ObjectNode expected, JsonNode actual, List<String> mismatches) {
        if (actual == null || !actual.isObject()) {
            mismatches.add(what + ": expected an object, got " + actual);
            return;
        }
        expected.fieldNames().forEachRemaining(name -> {
            JsonNode got = actual.get(name);
            if (!expected.get(name).equals(got)) {
                mismatches.add(what + ", " + name + ": expected " + expected.get(name) + " but got " + got);
            }
        });
        actual.fieldNames().forEachRemaining(name -> {
            if (!expected.has(name)) {
                mismatches.add(what + ": unexpected field " + name + " = " + actual.get(name));
            }
        });
    }

    private static JsonNode parse(String text) {
        try {
            return MAPPER.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + text, e);
        }
    }
}

package io.pgrelay.agent.schema;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgrelay.agent.core.Lsn;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SchemaEventsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SchemaEvents.At AT = new SchemaEvents.At(Lsn.parse("0/1A2B3C4"), Lsn.parse("0/1A2B400"), 771, 3,
            1_795_342_530_123_456L);

    private final SchemaEvents events = new SchemaEvents("demo");

    private static final TableSchema V1 = new TableSchema("public.orders", 'd', List.of(
            new TableSchema.Column("id", "int4", 23, -1, true),
            new TableSchema.Column("status", "text", 25, -1, false)));
    private static final TableSchema V2 = new TableSchema("public.orders", 'd', List.of(
            new TableSchema.Column("id", "int8", 20, -1, true),
            new TableSchema.Column("state", "text", 25, -1, false),
            new TableSchema.Column("note", "varchar", 1043, 24, false)));

    private static JsonNode json(byte[] bytes) throws Exception {
        return JSON.readTree(bytes);
    }

    @Test
    void schemaEventHasTheShapeThePreviousOneTheChangesAndThePosition() throws Exception {
        JsonNode e = json(events.schema(V2, V1, AT));
        assertThat(e).isEqualTo(JSON.readTree("""
                {"op":"schema","table":"public.orders","replicaIdentity":"default",
                 "columns":[{"name":"id","type":"int8","typeOid":20,"typmod":-1,"key":true},
                            {"name":"state","type":"text","typeOid":25,"typmod":-1,"key":false},
                            {"name":"note","type":"varchar","typeOid":1043,"typmod":24,"key":false}],
                 "previous":[{"name":"id","type":"int4","typeOid":23,"typmod":-1,"key":true},
                             {"name":"status","type":"text","typeOid":25,"typmod":-1,"key":false}],
                 "changes":[{"change":"retyped","column":"id","from":"int4","to":"int8"},
                            {"change":"renamed","column":"state","from":"status","to":"state"},
                            {"change":"added","column":"note","from":null,"to":"varchar (typmod 24)"}],
                 "lsn":"0/1A2B3C4","commitLsn":"0/1A2B400","xid":771,"seq":3,
                 "committedAt":"2026-11-22T10:15:30.123456Z","cluster":"demo"}"""));
        assertThat(new String(SchemaEvents.schemaKey(V2), StandardCharsets.UTF_8)).isEqualTo("public.orders");
    }

    @Test
    void firstSchemaEventOfATableHasNoPrevious() throws Exception {
        JsonNode e = json(events.schema(V1, null, AT));
        assertThat(e.get("previous").isNull()).isTrue();
        assertThat(e.get("changes")).isEmpty();
    }

    @Test
    void aSchemaEventReadsBackAsTheShapeItPublished() {
        TableSchema read = SchemaEvents.parseSchema(events.schema(V2, V1, AT));
        assertThat(read).isEqualTo(V2);
        assertThat(read.sameShapeAs(V2)).isTrue();
    }

    @Test
    void recordsOtherThanSchemaEventsReadAsNothing() {
        assertThat(SchemaEvents.parseSchema(null)).isNull();
        byte[] ddl = events.ddl(new SchemaEvents.Ddl("demo", "ALTER TABLE", "ALTER TABLE t ADD c int", "app", "[]"), AT);
        assertThat(SchemaEvents.parseSchema(ddl)).isNull();
        assertThatThrownBy(() -> SchemaEvents.parseSchema("{\"op\":\"schema\"}".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unreadable schema event");
    }

    @Test
    void ddlMessageOfTheEventTriggerBecomesADdlEvent() throws Exception {
        byte[] content = """
                {"cluster":"demo","tag":"ALTER TABLE","ddl":"ALTER TABLE orders ADD note text; -- \\"quoted\\"","user":"app",
                 "objects":[{"type":"table","identity":"public.orders","schema":"public"}]}"""
                .getBytes(StandardCharsets.UTF_8);
        SchemaEvents.Ddl ddl = SchemaEvents.parseDdlMessage(content);
        assertThat(ddl.cluster()).isEqualTo("demo");
        JsonNode e = json(events.ddl(ddl, AT));
        assertThat(e).isEqualTo(JSON.readTree("""
                {"op":"ddl","tag":"ALTER TABLE","objects":[{"type":"table","identity":"public.orders","schema":"public"}],
                 "ddl":"ALTER TABLE orders ADD note text; -- \\"quoted\\"","user":"app",
                 "lsn":"0/1A2B3C4","commitLsn":"0/1A2B400","xid":771,"seq":3,
                 "committedAt":"2026-11-22T10:15:30.123456Z","cluster":"demo"}"""));
        assertThat(new String(SchemaEvents.ddlKey(AT), StandardCharsets.UTF_8)).isEqualTo("ddl:0/1A2B400#3");
    }

    @Test
    void aDdlMessageThatIsNotTheTriggersIsRefusedWithItsText() {
        assertThatThrownBy(() -> SchemaEvents.parseDdlMessage("DROP TABLE x".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SchemaEvents.parseDdlMessage("{\"tag\":\"x\"}".getBytes(StandardCharsets.UTF_8)))
                .hasMessageContaining("{\"tag\":\"x\"}");
    }
}

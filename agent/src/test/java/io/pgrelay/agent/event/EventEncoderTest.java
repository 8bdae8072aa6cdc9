package io.pgrelay.agent.event;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgrelay.agent.core.Lsn;
import io.pgrelay.agent.core.TableId;
import io.pgrelay.agent.pgoutput.Begin;
import io.pgrelay.agent.pgoutput.CapturedMessages;
import io.pgrelay.agent.pgoutput.CapturedMessages.Captured;
import io.pgrelay.agent.pgoutput.Delete;
import io.pgrelay.agent.pgoutput.Insert;
import io.pgrelay.agent.pgoutput.PgMessage;
import io.pgrelay.agent.pgoutput.PgOutputDecoder;
import io.pgrelay.agent.pgoutput.Relation;
import io.pgrelay.agent.pgoutput.TupleData;
import io.pgrelay.agent.pgoutput.Update;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EventEncoderTest {

    private static final String BIG = "x".repeat(10_000);
    private static final String SAMPLE_ROW_TAIL = "\"price\":\"1234.500\",\"ratio\":0.25,\"flag\":true,";

    private final EventEncoder encoder = new EventEncoder("demo", BuiltinTypes.CATALOG);

    /** The one row change in a captured file, as the pipeline would make it (seq 0). */
    private static ChangeEvent captured(String file) {
        List<Captured> raw = CapturedMessages.read(file);
        PgOutputDecoder decoder = new PgOutputDecoder();
        Begin begin = null;
        Relation relation = null;
        for (Captured c : raw) {
            PgMessage m = decoder.decode(c.buffer());
            if (m instanceof Begin b) {
                begin = b;
            } else if (m instanceof Relation r) {
                relation = r;
            } else if (m instanceof Insert i) {
                return event(Op.INSERT, relation, null, i.newTuple(), c, begin);
            } else if (m instanceof Update u) {
                return event(Op.UPDATE, relation, u.oldTuple(), u.newTuple(), c, begin);
            } else if (m instanceof Delete d) {
                return event(Op.DELETE, relation, d.oldTuple(), null, c, begin);
            }
        }
        throw new IllegalArgumentException("no row change in " + file);
    }

    private static ChangeEvent event(Op op, Relation relation, TupleData before, TupleData after, Captured c, Begin begin) {
        return new ChangeEvent(op, relation, before, after, c.lsn(), begin.finalLsn(), begin.xid(), 0,
                ChangeEvent.unixMicros(begin.commitTimeMicros()));
    }

    private static String text(byte[] json) {
        return json == null ? null : new String(json, StandardCharsets.UTF_8);
    }

    @Test
    void insertOfCapturedRowMatchesTheContract() {
        ChangeEvent insert = captured("insert.hex");

        assertThat(text(encoder.value(insert))).isEqualTo("{\"op\":\"insert\",\"table\":\"public.sample\",\"key\":{\"id\":1},"
                + "\"before\":null,\"after\":{\"id\":1,\"small\":-7,\"num\":42," + SAMPLE_ROW_TAIL
                + "\"name\":\"He said \\\"hi\\\"\\\\ and left\\nnaïve ☃\",\"code\":\"abc\",\"letter\":\"x  \","
                + "\"born\":\"2026-11-22\",\"seen\":\"2026-11-22T10:15:30.123456Z\",\"local_ts\":\"2026-11-22T10:15:30.5\","
                + "\"doc\":{\"a\": [1, 2.5, null], \"b\": \"q\\\"uote\"},\"tags\":[\"one\",\"two, three\",null,\"with \\\"quote\\\"\"],"
                + "\"data\":\"3q2+7w==\",\"uid\":\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\",\"m\":\"happy\",\"big\":\"" + BIG + "\"},"
                + "\"unchanged\":[],\"lsn\":\"0/1525420\",\"commitLsn\":\"0/1525610\",\"xid\":739,\"seq\":0,"
                + "\"committedAt\":\"2026-11-22T03:54:25.947366Z\",\"cluster\":\"demo\"}");
        assertThat(text(encoder.key(insert))).isEqualTo("{\"id\":1}");
    }

    @Test
    void valueFieldsComeInContractOrderAndParse() throws Exception {
        JsonNode value = new ObjectMapper().readTree(encoder.value(captured("update-toast-unchanged.hex")));

        List<String> names = new ArrayList<>();
        value.fieldNames().forEachRemaining(names::add);
        assertThat(names).containsExactly("op", "table", "key", "before", "after", "unchanged", "lsn", "commitLsn",
                "xid", "seq", "committedAt", "cluster");
    }

    @Test
    void updateWithoutOldTupleTakesKeyFromNewRowAndListsUnchangedToast() throws Exception {
        ChangeEvent update = captured("update-toast-unchanged.hex");
        JsonNode value = new ObjectMapper().readTree(encoder.value(update));

        assertThat(value.get("op").asText()).isEqualTo("update");
        assertThat(value.get("key").toString()).isEqualTo("{\"id\":1}");
        assertThat(value.get("before").toString()).isEqualTo("{\"id\":1}");
        assertThat(value.get("after").get("name").asText()).isEqualTo("renamed");
        assertThat(value.get("after").has("big")).isFalse();
        assertThat(value.get("unchanged").toString()).isEqualTo("[\"big\"]");
    }

    @Test
    void updateOfTheKeyHasOldKeyInBeforeAndNewKeyAsKey() throws Exception {
        ChangeEvent update = captured("update-key-changed.hex");
        JsonNode value = new ObjectMapper().readTree(encoder.value(update));

        assertThat(text(encoder.key(update))).isEqualTo("{\"id\":2}");
        assertThat(value.get("key").toString()).isEqualTo("{\"id\":2}");
        assertThat(value.get("before").toString()).isEqualTo("{\"id\":1}");
        assertThat(value.get("after").get("id").asInt()).isEqualTo(2);
    }

    @Test
    void replicaIdentityFullKeysOnThePrimaryKeyWhenGiven() throws Exception {
        encoder.setPrimaryKey(new TableId("public", "sample"), List.of("id"));
        ChangeEvent update = captured("update-identity-full.hex");
        JsonNode value = new ObjectMapper().readTree(encoder.value(update));

        assertThat(text(encoder.key(update))).isEqualTo("{\"id\":2}");
        assertThat(value.get("before").get("num").asInt()).isEqualTo(42);
        assertThat(value.get("before").get("big").asText()).isEqualTo(BIG);
        assertThat(value.get("after").get("num").asInt()).isEqualTo(43);
        assertThat(value.get("after").has("big")).isFalse();
        assertThat(value.get("unchanged").toString()).isEqualTo("[\"big\"]");
    }

    @Test
    void primaryKeySetAfterRegistrationReRegisters() {
        ChangeEvent update = captured("update-identity-full.hex");
        encoder.register(update.relation());
        encoder.setPrimaryKey(new TableId("public", "sample"), List.of("id"));

        assertThat(text(encoder.key(update))).isEqualTo("{\"id\":2}");
    }

    @Test
    void replicaIdentityFullWithoutPrimaryKeyKeysOnEveryColumn() {
        ChangeEvent update = captured("update-identity-full.hex");

        assertThat(text(encoder.key(update))).startsWith("{\"id\":2,\"small\":-7,\"num\":43,").endsWith(BIG + "\"}");
    }

    @Test
    void unknownPrimaryKeyColumnFailsClearly() {
        encoder.setPrimaryKey(new TableId("public", "sample"), List.of("nope"));
        ChangeEvent update = captured("update-identity-full.hex");

        assertThatThrownBy(() -> encoder.value(update)).isInstanceOf(EventEncodingException.class)
                .hasMessageStartingWith("primary key column nope is not a column of public.sample (columns: [id, small,");
    }

    @Test
    void deleteEmitsKeyInBefore() {
        ChangeEvent delete = captured("insert-delete-key.hex");
        delete = new ChangeEvent(Op.DELETE, delete.relation(), new Delete(16398, 'K',
                TupleData.builder().text("5").nul().build()).oldTuple(), null, Lsn.parse("0/152B0E8"),
                Lsn.parse("0/152B128"), 746, 0, 0);

        assertThat(text(encoder.value(delete))).isEqualTo("{\"op\":\"delete\",\"table\":\"public.plain\",\"key\":{\"k\":5},"
                + "\"before\":{\"k\":5},\"after\":null,\"unchanged\":[],\"lsn\":\"0/152B0E8\",\"commitLsn\":\"0/152B128\","
                + "\"xid\":746,\"seq\":0,\"committedAt\":\"1970-01-01T00:00:00.000000Z\",\"cluster\":\"demo\"}");
        assertThat(text(encoder.key(delete))).isEqualTo("{\"k\":5}");
    }

    @Test
    void deleteUnderReplicaIdentityFullHasTheWholeRowInBefore() throws Exception {
        encoder.setPrimaryKey(new TableId("public", "sample"), List.of("id"));
        ChangeEvent delete = captured("delete-identity-full.hex");
        JsonNode value = new ObjectMapper().readTree(encoder.value(delete));

        assertThat(value.get("key").toString()).isEqualTo("{\"id\":2}");
        assertThat(value.get("before").size()).isEqualTo(18);
        assertThat(value.get("after").isNull()).isTrue();
        assertThat(value.get("unchanged").toString()).isEqualTo("[]");
    }

    @Test
    void truncateHasNoKeyBeforeOrAfter() {
        Relation plain = plainRelation(Relation.IDENTITY_DEFAULT, true);
        ChangeEvent truncate = new ChangeEvent(Op.TRUNCATE, plain, null, null, Lsn.parse("0/10"), Lsn.parse("0/20"), 5, 2,
                1_795_342_530_123_456L);

        assertThat(encoder.key(truncate)).isNull();
        assertThat(text(encoder.value(truncate))).isEqualTo("{\"op\":\"truncate\",\"table\":\"public.plain\",\"key\":null,"
                + "\"before\":null,\"after\":null,\"unchanged\":[],\"lsn\":\"0/10\",\"commitLsn\":\"0/20\",\"xid\":5,\"seq\":2,"
                + "\"committedAt\":\"2026-11-22T10:15:30.123456Z\",\"cluster\":\"demo\"}");
    }

    @Test
    void tableWithoutKeyHasNullKeyAndUpdateHasNullBefore() {
        Relation keyless = plainRelation(Relation.IDENTITY_NOTHING, false);
        ChangeEvent update = new ChangeEvent(Op.UPDATE, keyless, null, TupleData.builder().text("1").text("a").build(),
                Lsn.parse("0/10"), Lsn.parse("0/20"), 5, 0, 0);

        assertThat(encoder.key(update)).isNull();
        assertThat(text(encoder.value(update))).startsWith("{\"op\":\"update\",\"table\":\"public.plain\",\"key\":null,"
                + "\"before\":null,\"after\":{\"k\":1,\"v\":\"a\"},\"unchanged\":[],");
    }

    @Test
    void snapshotHasAfterOnly() {
        ChangeEvent snapshot = new ChangeEvent(Op.SNAPSHOT, plainRelation(Relation.IDENTITY_DEFAULT, true), null,
                TupleData.builder().text("9").nul().build(), Lsn.parse("0/10"), Lsn.parse("0/10"), 0, 0, 0);

        assertThat(text(encoder.value(snapshot))).startsWith("{\"op\":\"snapshot\",\"table\":\"public.plain\",\"key\":{\"k\":9},"
                + "\"before\":null,\"after\":{\"k\":9,\"v\":null},\"unchanged\":[],");
    }

    @Test
    void unchangedToastKeyColumnIsTakenFromTheOldTupleOrFails() {
        Relation plain = new Relation(1, "public", "docs", 'd', List.of(new Relation.Column(true, "k", 25, -1),
                new Relation.Column(false, "v", 25, -1)));
        TupleData after = TupleData.builder().unchangedToast().text("new").build();
        TupleData before = TupleData.builder().text("long key").nul().build();

        ChangeEvent withOld = new ChangeEvent(Op.UPDATE, plain, before, after, Lsn.parse("0/10"), Lsn.parse("0/10"), 0, 0, 0);
        ChangeEvent withoutOld = new ChangeEvent(Op.UPDATE, plain, null, after, Lsn.parse("0/10"), Lsn.parse("0/10"), 0, 0, 0);

        assertThat(text(encoder.key(withOld))).isEqualTo("{\"k\":\"long key\"}");
        assertThatThrownBy(() -> encoder.key(withoutOld)).isInstanceOf(EventEncodingException.class)
                .hasMessage("key column k of public.docs is an unchanged TOAST value that PostgreSQL did not send;"
                        + " the key cannot be built (update at LSN 0/10, xid 0)");
    }

    @Test
    void namesAreEscapedAndBinaryValuesAreBase64() {
        Relation odd = new Relation(2, "Odd\"Schema", "T 1", 'd', List.of(new Relation.Column(true, "a\"b", 23, -1),
                new Relation.Column(false, "bin", 17, -1)));
        ChangeEvent insert = new ChangeEvent(Op.INSERT, odd, null,
                TupleData.builder().text("1").binary(new byte[] {1, 2, 3}).build(), Lsn.parse("0/10"), Lsn.parse("0/10"), 0, 0, 0);

        assertThat(text(encoder.value(insert))).startsWith("{\"op\":\"insert\",\"table\":\"Odd\\\"Schema.T 1\","
                + "\"key\":{\"a\\\"b\":1},\"before\":null,\"after\":{\"a\\\"b\":1,\"bin\":\"AQID\"},");
    }

    @Test
    void tupleOfTheWrongWidthFailsClearly() {
        ChangeEvent insert = new ChangeEvent(Op.INSERT, plainRelation('d', true), null, TupleData.builder().text("1").build(),
                Lsn.parse("0/10"), Lsn.parse("0/10"), 0, 0, 0);

        assertThatThrownBy(() -> encoder.value(insert)).isInstanceOf(EventEncodingException.class)
                .hasMessage("a tuple of public.plain has 1 columns but its Relation message (id 16398) describes 2"
                        + " (insert at LSN 0/10, xid 0)");
    }

    @Test
    void badValueNamesItsColumnAndTable() {
        ChangeEvent insert = new ChangeEvent(Op.INSERT, new Relation(3, "public", "flags", 'd',
                List.of(new Relation.Column(true, "on", 16, -1))), null, TupleData.builder().text("maybe").build(),
                Lsn.parse("0/10"), Lsn.parse("0/10"), 0, 0, 0);

        assertThatThrownBy(() -> encoder.value(insert)).isInstanceOf(EventEncodingException.class)
                .hasMessage("column on of public.flags: bool value 'maybe' is neither t nor f (insert at LSN 0/10, xid 0)");
    }

    @Test
    void deleteWithoutOldTupleFailsClearly() {
        ChangeEvent delete = new ChangeEvent(Op.DELETE, plainRelation('d', true), null, null,
                Lsn.parse("0/10"), Lsn.parse("0/10"), 7, 0, 0);

        assertThatThrownBy(() -> encoder.value(delete)).isInstanceOf(EventEncodingException.class)
                .hasMessage("a delete of public.plain has no before tuple (delete at LSN 0/10, xid 7)");
    }

    @Test
    void typesAreLookedUpAtRegistrationNotPerRow() {
        AtomicInteger lookups = new AtomicInteger();
        EventEncoder counting = new EventEncoder("demo", oid -> {
            lookups.incrementAndGet();
            return BuiltinTypes.type(oid);
        });
        Relation plain = plainRelation('d', true);
        counting.register(plain);
        int afterRegister = lookups.get();
        for (int i = 0; i < 100; i++) {
            counting.value(new ChangeEvent(Op.INSERT, plain, null, TupleData.builder().text("1").text("a").build(),
                    Lsn.parse("0/10"), Lsn.parse("0/10"), 0, i, 0));
        }

        assertThat(afterRegister).isEqualTo(2);
        assertThat(lookups.get()).isEqualTo(afterRegister);
    }

    private static Relation plainRelation(char identity, boolean keyed) {
        return new Relation(16398, "public", "plain", identity, List.of(new Relation.Column(keyed, "k", 23, -1),
                new Relation.Column(false, "v", 25, -1)));
    }
}

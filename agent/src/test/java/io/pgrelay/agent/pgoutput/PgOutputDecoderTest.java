package io.pgrelay.agent.pgoutput;

import io.pgrelay.agent.core.Lsn;
import io.pgrelay.agent.core.TableId;
import io.pgrelay.agent.pgoutput.CapturedMessages.Captured;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Decodes messages captured from PostgreSQL 17 by {@link CapturePgOutput} and compares them to what was done. */
class PgOutputDecoderTest {

    private static final int SAMPLE = 16391;
    private static final int PLAIN = 16398;
    private static final int CHILD = 16405;

    private final PgOutputDecoder decoder = new PgOutputDecoder();

    @Test
    void insertTransactionDecodesBeginTypeRelationInsertCommit() {
        List<Captured> captured = CapturedMessages.read("insert.hex");
        List<PgMessage> messages = CapturedMessages.decodeAll("insert.hex");

        assertThat(messages).hasSize(5);
        assertThat(messages.get(0)).isEqualTo(new Begin(Lsn.parse("0/1525610"), 848634865947366L, 739));
        assertThat(((Begin) messages.get(0)).xid()).isEqualTo(captured.get(0).xid());
        assertThat(messages.get(1)).isEqualTo(new Type(16385, "public", "mood"));
        assertThat(messages.get(4)).isEqualTo(
                new Commit(0, Lsn.parse("0/1525610"), Lsn.parse("0/1525640"), 848634865947366L));
        assertThat(captured.get(4).lsn()).isEqualTo(Lsn.parse("0/1525640"));
    }

    @Test
    void relationCarriesColumnsTypesAndKeyFlags() {
        Relation relation = (Relation) CapturedMessages.decodeAll("insert.hex").get(2);

        assertThat(relation.relationId()).isEqualTo(SAMPLE);
        assertThat(relation.tableId()).isEqualTo(new TableId("public", "sample"));
        assertThat(relation.replicaIdentity()).isEqualTo(Relation.IDENTITY_DEFAULT);
        assertThat(relation.columns()).extracting(Relation.Column::name).containsExactly(
                "id", "small", "num", "price", "ratio", "flag", "name", "code", "letter", "born", "seen",
                "local_ts", "doc", "tags", "data", "uid", "m", "big");
        assertThat(relation.columns()).extracting(Relation.Column::typeOid).containsExactly(
                20, 21, 23, 1700, 701, 16, 25, 1043, 1042, 1082, 1184, 1114, 3802, 1009, 17, 2950, 16385, 25);
        assertThat(relation.columns().get(0)).isEqualTo(new Relation.Column(true, "id", 20, -1));
        assertThat(relation.columns().get(3).typeModifier()).isEqualTo((12 << 16 | 3) + 4);
        assertThat(relation.columns().get(7).typeModifier()).isEqualTo(10 + 4);
        assertThat(relation.columns().stream().filter(Relation.Column::key)).hasSize(1);
    }

    @Test
    void insertTupleHoldsPostgresTextOutput() {
        Insert insert = (Insert) CapturedMessages.decodeAll("insert.hex").get(3);
        TupleData row = insert.newTuple();

        assertThat(insert.relationId()).isEqualTo(SAMPLE);
        assertThat(row.size()).isEqualTo(18);
        assertThat(row.text(0)).isEqualTo("1");
        assertThat(row.text(3)).isEqualTo("1234.500");
        assertThat(row.text(5)).isEqualTo("t");
        assertThat(row.text(6)).isEqualTo("He said \"hi\"\\ and left\nnaïve ☃");
        assertThat(row.text(8)).isEqualTo("x  ");
        assertThat(row.text(10)).isEqualTo("2026-11-22 10:15:30.123456+00");
        assertThat(row.text(12)).isEqualTo("{\"a\": [1, 2.5, null], \"b\": \"q\\\"uote\"}");
        assertThat(row.text(13)).isEqualTo("{one,\"two, three\",NULL,\"with \\\"quote\\\"\"}");
        assertThat(row.text(14)).isEqualTo("\\xdeadbeef");
        assertThat(row.text(16)).isEqualTo("happy");
        assertThat(row.text(17)).hasSize(10_000);
        for (int i = 0; i < row.size(); i++) {
            assertThat(row.kind(i)).isEqualTo(TupleData.TEXT);
        }
    }

    @Test
    void tupleIsAViewOverTheMessageBytes() {
        byte[] bytes = CapturedMessages.read("insert-delete-key.hex").get(2).bytes();
        ByteBuffer framed = ByteBuffer.allocate(bytes.length + 10);
        framed.position(7);
        ByteBuffer slice = framed.slice();
        slice.put(bytes).flip();

        TupleData row = ((Insert) decoder.decode(slice)).newTuple();

        assertThat(row.buffer()).isSameAs(framed.array());
        assertThat(row.offset(1)).isEqualTo(7 + bytes.length - 4);
        assertThat(row.length(1)).isEqualTo(4);
        assertThat(row.text(1)).isEqualTo("five");
        assertThat(slice.hasRemaining()).isFalse();
    }

    @Test
    void bufferWithoutAccessibleArrayIsCopied() {
        byte[] bytes = CapturedMessages.read("insert-delete-key.hex").get(2).bytes();
        ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();

        assertThat(decoder.decode(direct)).isEqualTo(new Insert(PLAIN, TupleData.builder().text("5").text("five").build()));
        assertThat(decoder.decode(ByteBuffer.wrap(bytes).asReadOnlyBuffer()))
                .isEqualTo(new Insert(PLAIN, TupleData.builder().text("5").text("five").build()));
    }

    @Test
    void insertKeepsSqlNull() {
        Insert insert = (Insert) CapturedMessages.decodeAll("insert-delete-key.hex").get(3);

        assertThat(insert.newTuple()).isEqualTo(TupleData.builder().text("6").nul().build());
        assertThat(insert.newTuple().text(1)).isNull();
    }

    @Test
    void updateWithoutOldTupleMarksUnchangedToast() {
        Update update = (Update) CapturedMessages.decodeAll("update-toast-unchanged.hex").get(3);

        assertThat(update.oldKind()).isEqualTo((char) 0);
        assertThat(update.oldTuple()).isNull();
        assertThat(update.newTuple().text(6)).isEqualTo("renamed");
        assertThat(update.newTuple().kind(17)).isEqualTo(TupleData.UNCHANGED_TOAST);
        assertThat(update.newTuple().isUnchangedToast(17)).isTrue();
        assertThat(update.newTuple().length(17)).isZero();
    }

    @Test
    void updateOfTheKeySendsOldKeyWithOtherColumnsNull() {
        Update update = (Update) CapturedMessages.decodeAll("update-key-changed.hex").get(3);

        assertThat(update.oldKind()).isEqualTo('K');
        assertThat(update.oldTuple().text(0)).isEqualTo("1");
        for (int i = 1; i < 18; i++) {
            assertThat(update.oldTuple().isNull(i)).isTrue();
        }
        assertThat(update.newTuple().text(0)).isEqualTo("2");
    }

    @Test
    void replicaIdentityFullFlagsEveryColumnAndSendsWholeOldRow() {
        List<PgMessage> messages = CapturedMessages.decodeAll("update-identity-full.hex");
        Relation relation = (Relation) messages.get(2);
        Update update = (Update) messages.get(3);

        assertThat(relation.replicaIdentity()).isEqualTo(Relation.IDENTITY_FULL);
        assertThat(relation.columns()).allMatch(Relation.Column::key);
        assertThat(update.oldKind()).isEqualTo('O');
        assertThat(update.oldTuple().text(2)).isEqualTo("42");
        assertThat(update.oldTuple().text(17)).hasSize(10_000);
        assertThat(update.newTuple().text(2)).isEqualTo("43");
        assertThat(update.newTuple().isUnchangedToast(17)).isTrue();
    }

    @Test
    void deleteSendsOldKeyOrWholeRow() {
        Delete full = (Delete) CapturedMessages.decodeAll("delete-identity-full.hex").get(3);
        Delete byKey = (Delete) CapturedMessages.decodeAll("insert-delete-key.hex").get(6);

        assertThat(full.oldKind()).isEqualTo('O');
        assertThat(full.oldTuple().text(2)).isEqualTo("43");
        assertThat(byKey).isEqualTo(new Delete(PLAIN, 'K', TupleData.builder().text("5").nul().build()));
    }

    @Test
    void truncateListsEveryTableAndItsOptions() {
        Truncate truncate = (Truncate) CapturedMessages.decodeAll("truncate.hex").get(3);

        assertThat(truncate).isEqualTo(new Truncate(Truncate.CASCADE | Truncate.RESTART_IDENTITY, new int[] {PLAIN, CHILD}));
        assertThat(truncate.cascade()).isTrue();
        assertThat(truncate.restartIdentity()).isTrue();
    }

    @Test
    void logicalMessagesCarryPrefixAndContent() {
        LogicalMessage inTransaction = (LogicalMessage) CapturedMessages.decodeAll("messages.hex").get(1);
        // The non-transactional message was decoded with the next capture: PostgreSQL flushes it later.
        LogicalMessage alone = (LogicalMessage) CapturedMessages.decodeAll("origin.hex").get(0);

        assertThat(inTransaction.transactional()).isTrue();
        assertThat(inTransaction.prefix()).isEqualTo("pgrelay");
        assertThat(inTransaction.contentText()).isEqualTo("in a transaction");
        assertThat(inTransaction.lsn()).isEqualTo(Lsn.parse("0/152C7B8"));
        assertThat(alone.transactional()).isFalse();
        assertThat(alone.contentText()).isEqualTo("not transactional");
    }

    @Test
    void originNamesTheUpstreamAndItsCommitLsn() {
        assertThat(CapturedMessages.decodeAll("origin.hex").get(2))
                .isEqualTo(new Origin(Lsn.parse("0/ABCDEF"), "upstream"));
    }
}

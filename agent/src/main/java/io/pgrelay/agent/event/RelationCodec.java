package io.pgrelay.agent.event;

import io.pgrelay.agent.pgoutput.Relation;
import io.pgrelay.agent.pgoutput.TupleData;

import java.util.ArrayList;
import java.util.List;

/**
 * Writes one relation's tuples as JSON objects: column names encoded once, one {@link ValueCodec}
 * per column chosen by type when the Relation message arrived, and the key columns resolved.
 */
final class RelationCodec {

    private final Relation relation;
    private final String table;
    private final byte[] tableJson;
    private final byte[][] fieldNames;   // "name":
    private final byte[][] quotedNames;  // "name"
    private final ValueCodec[] codecs;
    /** The event key: replica identity columns, or the primary key under REPLICA IDENTITY FULL when known. */
    private final int[] keyColumns;
    /** The columns a 'K' old tuple carries: those the Relation message flags. */
    private final int[] identityColumns;

    RelationCodec(Relation relation, List<String> primaryKey, TypeCatalog types) {
        this.relation = relation;
        this.table = relation.tableId().toString();
        this.tableJson = encodeString(table);
        List<Relation.Column> columns = relation.columns();
        int n = columns.size();
        fieldNames = new byte[n][];
        quotedNames = new byte[n][];
        codecs = new ValueCodec[n];
        List<Integer> identity = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Relation.Column column = columns.get(i);
            quotedNames[i] = encodeString(column.name());
            fieldNames[i] = new byte[quotedNames[i].length + 1];
            System.arraycopy(quotedNames[i], 0, fieldNames[i], 0, quotedNames[i].length);
            fieldNames[i][quotedNames[i].length] = ':';
            codecs[i] = ValueCodecs.forType(column.typeOid(), types);
            if (column.key()) {
                identity.add(i);
            }
        }
        identityColumns = identity.stream().mapToInt(Integer::intValue).toArray();
        keyColumns = relation.replicaIdentity() == Relation.IDENTITY_FULL && primaryKey != null && !primaryKey.isEmpty()
                ? RelationColumns.indexesOf(relation, primaryKey) : identityColumns;
    }

    private static byte[] encodeString(String s) {
        JsonBuffer buffer = new JsonBuffer(s.length() + 8);
        buffer.writeString(s);
        return buffer.toByteArray();
    }

    Relation relation() {
        return relation;
    }

    byte[] tableJson() {
        return tableJson;
    }

    boolean hasKey() {
        return keyColumns.length > 0;
    }

    /** Is an old tuple the whole row ('O', REPLICA IDENTITY FULL) rather than the key ('K')? */
    boolean oldTupleIsWholeRow() {
        return relation.replicaIdentity() == Relation.IDENTITY_FULL;
    }

    /** The key columns as an object, from {@code row}, or from {@code fallback} where row's value was not sent. */
    void writeKey(TupleData row, TupleData fallback, JsonBuffer out) {
        RelationColumns.checkWidth(relation, codecs.length, row);
        out.write((byte) '{');
        for (int k = 0; k < keyColumns.length; k++) {
            int i = keyColumns[k];
            TupleData source = row;
            if (row.isUnchangedToast(i)) {
                if (fallback == null || fallback.isUnchangedToast(i)) {
                    throw new EventEncodingException("key column " + relation.columns().get(i).name() + " of " + table
                            + " is an unchanged TOAST value that PostgreSQL did not send; the key cannot be built");
                }
                source = fallback;
            }
            if (k > 0) {
                out.write((byte) ',');
            }
            out.write(fieldNames[i]);
            writeValue(source, i, out);
        }
        out.write((byte) '}');
    }

    /** Every column sent, as an object; unchanged TOAST values are left out (see {@link #writeUnchanged}). */
    void writeRow(TupleData row, JsonBuffer out) {
        RelationColumns.checkWidth(relation, codecs.length, row);
        out.write((byte) '{');
        boolean first = true;
        for (int i = 0; i < codecs.length; i++) {
            if (row.isUnchangedToast(i)) {
                continue;
            }
            if (!first) {
                out.write((byte) ',');
            }
            first = false;
            out.write(fieldNames[i]);
            writeValue(row, i, out);
        }
        out.write((byte) '}');
    }

    /** An old tuple: the whole row under REPLICA IDENTITY FULL, else only the identity columns it holds. */
    void writeOldTuple(TupleData old, JsonBuffer out) {
        if (oldTupleIsWholeRow()) {
            writeRow(old, out);
            return;
        }
        RelationColumns.checkWidth(relation, codecs.length, old);
        out.write((byte) '{');
        for (int k = 0; k < identityColumns.length; k++) {
            int i = identityColumns[k];
            if (k > 0) {
                out.write((byte) ',');
            }
            out.write(fieldNames[i]);
            writeValue(old, i, out);
        }
        out.write((byte) '}');
    }

    /** The names of the columns whose unchanged TOAST value was not sent, as an array. */
    void writeUnchanged(TupleData row, JsonBuffer out) {
        out.write((byte) '[');
        if (row != null) {
            boolean first = true;
            for (int i = 0; i < row.size(); i++) {
                if (row.isUnchangedToast(i)) {
                    if (!first) {
                        out.write((byte) ',');
                    }
                    first = false;
                    out.write(quotedNames[i]);
                }
            }
        }
        out.write((byte) ']');
    }

    private void writeValue(TupleData row, int i, JsonBuffer out) {
        switch (row.kind(i)) {
            case TupleData.TEXT -> {
                try {
                    codecs[i].write(row.buffer(), row.offset(i), row.length(i), out);
                } catch (EventEncodingException e) {
                    throw new EventEncodingException("column " + relation.columns().get(i).name() + " of " + table
                            + ": " + e.getMessage());
                }
            }
            case TupleData.NULL -> out.writeNull();
            case TupleData.BINARY -> out.writeBase64(row.buffer(), row.offset(i), row.length(i));
            default -> throw new EventEncodingException("column " + relation.columns().get(i).name() + " of " + table
                    + " has kind '" + (char) row.kind(i) + "' where a value was expected");
        }
    }
}

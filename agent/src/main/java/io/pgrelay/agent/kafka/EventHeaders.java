package io.pgrelay.agent.kafka;

import io.pgrelay.agent.core.Lsn;
import io.pgrelay.agent.event.Op;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * The headers every record of a term carries ({@code pgrelay.lsn}, {@code pgrelay.commit-lsn},
 * {@code pgrelay.seq}, {@code pgrelay.op}, {@code pgrelay.epoch}, {@code pgrelay.agent}), made
 * with as little as possible per event: the op, epoch and agent headers are made once, the
 * commit LSN's once per transaction, and the six share one array that the next event overwrites.
 * That is safe because the producer copies a record's headers when the record is made, before
 * {@code send} returns.
 *
 * <p>Thread rule: one thread (the pipeline's sink thread).
 */
public final class EventHeaders {

    static final String LSN = "pgrelay.lsn";
    static final String COMMIT_LSN = "pgrelay.commit-lsn";
    static final String SEQ = "pgrelay.seq";
    static final String OP = "pgrelay.op";
    static final String EPOCH = "pgrelay.epoch";
    static final String AGENT = "pgrelay.agent";

    private static final Header[] OPS = Arrays.stream(Op.values()).map(op -> header(OP, op.jsonName())).toArray(Header[]::new);

    private final Header epoch;
    private final Header agent;
    private final Header[] slots = new Header[6];
    private final List<Header> view = Arrays.asList(slots);
    private long commitLsnOf = -1;
    private Header commitLsn;

    public EventHeaders(long epoch, String agentId) {
        this.epoch = header(EPOCH, Long.toString(epoch));
        this.agent = header(AGENT, agentId);
    }

    /** An event's headers, valid until the next call. */
    public List<Header> of(long lsn, long commitLsn, long seq, Op op) {
        return of(lsn, commitLsn, seq, OPS[op.ordinal()]);
    }

    /** A schema or DDL event's headers ({@code op}: {@code schema}, {@code ddl}), valid until the next call. */
    public List<Header> of(long lsn, long commitLsnValue, long seq, Header op) {
        if (commitLsnOf != commitLsnValue) {
            commitLsnOf = commitLsnValue;
            commitLsn = new RecordHeader(COMMIT_LSN, Lsn.toAscii(commitLsnValue));
        }
        slots[0] = new RecordHeader(LSN, Lsn.toAscii(lsn));
        slots[1] = commitLsn;
        slots[2] = new RecordHeader(SEQ, Long.toString(seq).getBytes(StandardCharsets.US_ASCII));
        slots[3] = op;
        slots[4] = epoch;
        slots[5] = agent;
        return view;
    }

    public static Header opHeader(String op) {
        return header(OP, op);
    }

    private static Header header(String key, String value) {
        return new RecordHeader(key, value.getBytes(StandardCharsets.UTF_8));
    }
}

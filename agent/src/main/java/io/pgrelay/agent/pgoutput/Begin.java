package io.pgrelay.agent.pgoutput;

import io.pgrelay.agent.core.Lsn;

/**
 * {@code B}: a transaction starts. {@code commitTimeMicros} counts microseconds since
 * 2000-01-01 00:00 UTC (PostgreSQL's epoch), as sent.
 */
public record Begin(Lsn finalLsn, long commitTimeMicros, long xid) implements PgMessage {
}

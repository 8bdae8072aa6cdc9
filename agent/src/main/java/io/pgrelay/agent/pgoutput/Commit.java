package io.pgrelay.agent.pgoutput;

import io.pgrelay.agent.core.Lsn;

/** {@code C}: the transaction begun by the last {@link Begin} committed. Flags are currently always 0. */
public record Commit(int flags, Lsn commitLsn, Lsn endLsn, long commitTimeMicros) implements PgMessage {
}

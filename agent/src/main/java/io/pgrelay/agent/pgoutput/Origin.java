package io.pgrelay.agent.pgoutput;

import io.pgrelay.agent.core.Lsn;

/** {@code O}: the transaction was replicated from elsewhere; {@code lsn} is its commit LSN on the origin server. */
public record Origin(Lsn lsn, String name) implements PgMessage {
}

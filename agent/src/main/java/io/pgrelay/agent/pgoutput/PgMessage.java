package io.pgrelay.agent.pgoutput;

/**
 * One pgoutput logical replication message (protocol version 1), as {@link PgOutputDecoder}
 * reads it. The byte layout of each is in PostgreSQL's "Logical Replication Message Formats"
 * and {@code src/backend/replication/logical/proto.c}.
 */
public sealed interface PgMessage
        permits Begin, Commit, Relation, Type, Origin, Insert, Update, Delete, Truncate, LogicalMessage {
}

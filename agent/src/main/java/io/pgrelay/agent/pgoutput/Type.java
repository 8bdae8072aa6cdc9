package io.pgrelay.agent.pgoutput;

/** {@code Y}: names a non-built-in type that a following {@link Relation} uses. */
public record Type(int typeOid, String namespace, String name) implements PgMessage {
}

/**
 * The pgoutput logical replication protocol, version 1: {@link io.pgrelay.agent.pgoutput.PgOutputDecoder}
 * turns one message's bytes into one {@link io.pgrelay.agent.pgoutput.PgMessage} record. No I/O, no
 * state: the pipeline keeps the Relation messages and pairs rows with them.
 *
 * <p>Test data: {@code agent/src/test/resources/pgoutput/*.hex}, captured from a real server by
 * {@code CapturePgOutput} in the test sources.
 */
package io.pgrelay.agent.pgoutput;

package io.pgrelay.agent.failure;

import org.junit.jupiter.api.Test;

import java.sql.SQLException;

import static org.assertj.core.api.Assertions.assertThat;

class FailureMessagesTest {

    @Test
    void eachFailedPreflightCheckIsALogLineOfItsOwn() {
        Failures.FatalException e = new Failures.FatalException("postgres: wal_level is 'replica'; set wal_level = logical"
                + "\npostgres: role r lacks REPLICATION; as a superuser run ALTER ROLE r WITH REPLICATION");

        assertThat(Failures.messageLines(e)).containsExactly(
                "postgres: wal_level is 'replica'; set wal_level = logical",
                "postgres: role r lacks REPLICATION; as a superuser run ALTER ROLE r WITH REPLICATION");
    }

    @Test
    void causesJoinTheMessageWithoutRepeatingIt() {
        SQLException cause = new SQLException("Connection refused");
        Exception e = new IllegalStateException("postgres: cannot connect to jdbc:postgresql://h/db as u", cause);

        assertThat(Failures.messageLines(e)).containsExactly("postgres: cannot connect to jdbc:postgresql://h/db as u: Connection refused");
    }
}

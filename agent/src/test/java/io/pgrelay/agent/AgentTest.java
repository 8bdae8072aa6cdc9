package io.pgrelay.agent;

import org.junit.jupiter.api.Test;

import java.sql.SQLException;

import static org.assertj.core.api.Assertions.assertThat;

class AgentTest {

    @Test
    void eachFailedPreflightCheckIsALogLineOfItsOwn() {
        Failures.FatalException e = new Failures.FatalException("postgres: wal_level is 'replica'; set wal_level = logical"
                + "\npostgres: role r lacks REPLICATION; as a superuser run ALTER ROLE r WITH REPLICATION");

        assertThat(Agent.messageLines(e)).containsExactly(
                "postgres: wal_level is 'replica'; set wal_level = logical",
                "postgres: role r lacks REPLICATION; as a superuser run ALTER ROLE r WITH REPLICATION");
    }

    @Test
    void causesJoinTheMessageWithoutRepeatingIt() {
        SQLException cause = new SQLException("Connection refused");
        Exception e = new IllegalStateException("postgres: cannot connect to jdbc:postgresql://h/db as u", cause);

        assertThat(Agent.messageLines(e)).containsExactly("postgres: cannot connect to jdbc:postgresql://h/db as u: Connection refused");
    }
}

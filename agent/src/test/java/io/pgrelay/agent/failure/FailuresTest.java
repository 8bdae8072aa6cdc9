package io.pgrelay.agent.failure;

import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.junit.jupiter.api.Test;

import java.sql.SQLException;

import static io.pgrelay.agent.failure.Failures.Kind.FATAL;
import static io.pgrelay.agent.failure.Failures.Kind.FENCED;
import static io.pgrelay.agent.failure.Failures.Kind.RETRIABLE;
import static io.pgrelay.agent.failure.Failures.Kind.SLOT_BUSY;
import static org.assertj.core.api.Assertions.assertThat;

class FailuresTest {

    @Test
    void slotActiveForAnotherPidMeansStandBy() {
        assertThat(Failures.classify(new SQLException("replication slot \"s\" is active for PID 42", "55006"))).isEqualTo(SLOT_BUSY);
    }

    @Test
    void producerFencedMeansZombie() {
        assertThat(Failures.classify(new KafkaException("commit failed", new ProducerFencedException("x")))).isEqualTo(FENCED);
    }

    @Test
    void schemaRegistryThatCannotBeReachedIsRetriable() {
        assertThat(Failures.classify(new io.pgrelay.agent.registry.SchemaRegistryClient.RegistryUnavailableException(
                "schema registry http://r:8081 could not register subject t-value", new java.net.ConnectException()))).isEqualTo(RETRIABLE);
    }

    @Test
    void schemaRegistryDownForLongerThanItsRetryTimeoutIsFatal() {
        assertThat(Failures.classify(new RuntimeException("pipeline failed", new io.pgrelay.agent.registry.SchemaRegistryClient.RegistryDownException(
                "schema registry http://r:8081 has been unreachable or failing for 120 s", new java.net.ConnectException())))).isEqualTo(FATAL);
    }

    @Test
    void schemaTheRegistryRefusesIsFatal() {
        assertThat(Failures.classify(new io.pgrelay.agent.registry.SchemaRegistryClient.SchemaRejectedException(
                "schema registry http://r:8081 refused the new schema of subject t-value as incompatible"))).isEqualTo(FATAL);
    }

    @Test
    void terminatedWalsenderIsRetriable() {
        assertThat(Failures.classify(new SQLException("terminating connection due to administrator command", "57P01"))).isEqualTo(RETRIABLE);
    }

    @Test
    void brokenConnectionIsRetriable() {
        assertThat(Failures.classify(new SQLException("An I/O error occurred", "08006"))).isEqualTo(RETRIABLE);
    }

    @Test
    void removedWalIsFatal() {
        assertThat(Failures.classify(new SQLException("requested WAL segment has already been removed", "58P01"))).isEqualTo(FATAL);
    }

    @Test
    void badPasswordIsFatal() {
        assertThat(Failures.classify(new SQLException("password authentication failed", "28P01"))).isEqualTo(FATAL);
    }

    @Test
    void missingPrivilegeIsFatal() {
        assertThat(Failures.classify(new SQLException("permission denied", "42501"))).isEqualTo(FATAL);
    }

    @Test
    void kafkaTimeoutIsRetriable() {
        assertThat(Failures.classify(new TimeoutException("Timeout expired after 30000ms while awaiting InitProducerId"))).isEqualTo(RETRIABLE);
    }

    @Test
    void kafkaAuthorizationIsFatal() {
        assertThat(Failures.classify(new TransactionalIdAuthorizationException("denied"))).isEqualTo(FATAL);
        assertThat(Failures.classify(new SaslAuthenticationException("denied"))).isEqualTo(FATAL);
    }

    @Test
    void unknownFailureIsRetriable() {
        assertThat(Failures.classify(new IllegalStateException("something odd"))).isEqualTo(RETRIABLE);
    }

    @Test
    void explicitFatalWins() {
        assertThat(Failures.classify(new Failures.FatalException("slot lost"))).isEqualTo(FATAL);
    }
}

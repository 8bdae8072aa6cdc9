package io.pgrelay.agent.failure;

import java.util.List;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.UnsupportedVersionException;

import java.sql.SQLException;

/**
 * The one place that decides what a failure means for the agent: stand by, retry with backoff,
 * or stop with exit status 1. Each case has a unit test.
 */
public final class Failures {

    public enum Kind {
        /** another walsender holds the slot (SQLSTATE 55006): someone else leads; stand by */
        SLOT_BUSY,
        /** a newer leader's producer fenced ours: this agent is a zombie; stand by */
        FENCED,
        /** worth another try after a pause: lost connections, timeouts, a terminated walsender */
        RETRIABLE,
        /** retrying cannot help: a person must act; the message says what */
        FATAL
    }

    private Failures() {
    }

    public static Kind classify(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof ProducerFencedException || t instanceof InvalidProducerEpochException
                    || t instanceof io.pgrelay.agent.kafka.KafkaSink.FencedException) {
                return Kind.FENCED;
            }
            if (t instanceof AuthenticationException || t instanceof AuthorizationException
                    || t instanceof UnsupportedVersionException) {
                return Kind.FATAL;
            }
            if (t instanceof FatalException || t instanceof io.pgrelay.agent.pgoutput.PgOutputException
                    || t instanceof io.pgrelay.agent.event.EventEncodingException
                    || t instanceof io.pgrelay.agent.registry.SchemaRegistryClient.SchemaRejectedException
                    || t instanceof io.pgrelay.agent.registry.SchemaRegistryClient.RegistryDownException) {
                // a stream we cannot read, an event we cannot write or a schema the registry refuses
                // would fail the same way again; a registry down for longer than its retryTimeout
                // is for a person to look at
                return Kind.FATAL;
            }
            if (t instanceof SQLException sql && sql.getSQLState() != null) {
                Kind kind = classifySqlState(sql.getSQLState());
                if (kind != null) {
                    return kind;
                }
            }
        }
        return Kind.RETRIABLE;
    }

    /** The meaning of a PostgreSQL SQLSTATE, or null when it says nothing final. */
    static Kind classifySqlState(String state) {
        return switch (state) {
            case "55006" -> Kind.SLOT_BUSY;                // object_in_use: the slot is active for another PID
            case "58P01" -> Kind.FATAL;                    // undefined_file: WAL the slot needs was removed
            case "28000", "28P01" -> Kind.FATAL;           // invalid authorization / password
            case "42501" -> Kind.FATAL;                    // insufficient_privilege
            case "3D000" -> Kind.FATAL;                    // database does not exist
            case "42704" -> Kind.RETRIABLE;                // slot or publication missing: run re-creates them
            default -> state.startsWith("08") || state.startsWith("57") || state.startsWith("53") ? Kind.RETRIABLE : null;
        };
    }

    /** A failure that no retry will mend. */
    public static class FatalException extends RuntimeException {
        public FatalException(String message) {
            super(message);
        }

        public FatalException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The failure's own words, with its causes', never a stack trace. */
    public static String messageOf(Throwable e) {
        StringBuilder sb = new StringBuilder(String.valueOf(e.getMessage()));
        for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            if (c.getMessage() != null && !sb.toString().contains(c.getMessage())) {
                sb.append(": ").append(c.getMessage());
            }
        }
        return sb.toString();
    }

    /** One line per problem: a fatal failure may carry several (one per failed preflight check). */
    public static List<String> messageLines(Throwable e) {
        return messageOf(e).lines().filter(l -> !l.isBlank()).toList();
    }
}

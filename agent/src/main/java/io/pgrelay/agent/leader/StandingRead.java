package io.pgrelay.agent.leader;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * A standby's reader of one of pgrelay's topics with its last answer, which the standby keeps
 * current (reading on from where it stopped) until a takeover takes both: the takeover then
 * starts from an answer it already has and only reads what was committed since. The lock
 * keeps the refresher and the takeover off the consumer at the same time.
 */
final class StandingRead<R extends AutoCloseable, T> {

    private static final Logger LOG = LoggerFactory.getLogger(StandingRead.class);

    final R reader;
    private T last;
    private boolean taken;

    StandingRead(R reader, T first) {
        this.reader = reader;
        this.last = first;
    }

    /** Reads on ({@code refresh}), or reads afresh after a failed refresh ({@code read}); a failure leaves no answer. */
    synchronized void refresh(BiFunction<R, T, T> refresh, Function<R, T> read) {
        if (taken) {
            return;
        }
        try {
            last = last == null ? read.apply(reader) : refresh.apply(reader, last);
        } catch (RuntimeException e) {
            LOG.debug("refreshing a standby's read of Kafka failed: {}", e.toString());
            last = null;
        }
    }

    /** Hands reader and answer (null: none) to the caller; no refresh touches them after. */
    synchronized T take() {
        taken = true;
        return last;
    }

}

package io.pgrelay.agent.core;

import java.time.Duration;

/**
 * The wait before a retry: starts at {@code first}, doubles after each failed attempt up to
 * {@code max}, and starts over after a success. Not thread-safe: one retry loop owns an instance.
 */
public final class Backoff {

    private final Duration first;
    private final Duration max;
    private Duration current;

    public Backoff(Duration first, Duration max) {
        this.first = first;
        this.max = max;
        this.current = first;
    }

    /** How long to wait before the next attempt. */
    public Duration current() {
        return current;
    }

    /** An attempt failed: the next wait is twice this one, at most {@code max}. */
    public void increase() {
        Duration doubled = current.multipliedBy(2);
        current = doubled.compareTo(max) > 0 ? max : doubled;
    }

    /** An attempt succeeded: the next failure waits {@code first} again. */
    public void reset() {
        current = first;
    }
}

package io.pgrelay.agent.http;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Failed authentications per client address, to slow down guessing: after {@link #LIMIT} failures
 * within {@link #WINDOW} from one address, that address is refused (429) until the window that
 * began with its first failure ends — even with a right token, so that a guess that succeeds
 * cannot be told apart. Behind a proxy every client shares the proxy's address.
 *
 * <p>Called from Jetty's request threads: the map is concurrent and each window is updated under
 * its own lock.
 */
final class AuthFailures {

    static final int LIMIT = 10;
    static final Duration WINDOW = Duration.ofSeconds(10);
    /** Beyond this many addresses, expired windows are swept before a new one is added. */
    private static final int SWEEP_ABOVE = 10_000;

    private final Map<String, Window> byClient = new ConcurrentHashMap<>();
    private final LongSupplier nanoClock;

    AuthFailures(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
    }

    /** Seconds until {@code client} may try again; 0 when it is not blocked. */
    long blockedForSeconds(String client) {
        Window w = byClient.get(client);
        if (w == null) {
            return 0;
        }
        synchronized (w) {
            long left = w.start + WINDOW.toNanos() - nanoClock.getAsLong();
            return left <= 0 || w.failures < LIMIT ? 0 : Math.max(1, (left + 999_999_999) / 1_000_000_000);
        }
    }

    void failed(String client) {
        long now = nanoClock.getAsLong();
        if (byClient.size() > SWEEP_ABOVE) {
            byClient.values().removeIf(w -> now - w.start > WINDOW.toNanos());
        }
        Window w = byClient.computeIfAbsent(client, c -> new Window(now));
        synchronized (w) {
            if (now - w.start > WINDOW.toNanos()) {
                w.start = now;
                w.failures = 0;
            }
            w.failures++;
        }
    }

    private static final class Window {
        long start;     // guarded by this
        int failures;   // guarded by this

        Window(long start) {
            this.start = start;
        }
    }
}

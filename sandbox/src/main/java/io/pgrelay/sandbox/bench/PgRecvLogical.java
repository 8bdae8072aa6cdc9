package io.pgrelay.sandbox.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The ceiling: PostgreSQL's own {@code pg_recvlogical} reading {@code pgoutput} into /dev/null —
 * what logical decoding alone delivers. Done when its slot's {@code confirmed_flush_lsn} reaches the
 * workload's end, or when it stops by itself at {@code --endpos} (set to the same position).
 */
final class PgRecvLogical implements Candidate {

    static final String DEFAULT_PATH = "/usr/bin/pg_recvlogical";
    private static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(120);

    private final Path executable;

    PgRecvLogical(Path executable) {
        this.executable = executable;
    }

    @Override
    public String name() {
        return "pg_recvlogical";
    }

    @Override
    public String slotPrefix() {
        return "ceiling_recv_";
    }

    @Override
    public Measurement drain(Backlog b) throws Exception {
        Path stderr = Files.createTempFile("pgrelay-bench-recvlogical-", ".log");
        List<String> cmd = List.of(executable.toString(),
                "-h", "127.0.0.1", "-p", Integer.toString(b.sandbox().postgres().port()), "-U", "postgres", "-d", "postgres",
                "--slot=" + b.slot(), "--start", "--no-loop",
                "-o", "proto_version=1", "-o", "publication_names=" + b.publication(),
                "-s", "1", "-F", "1", "-E", Lsns.text(b.endLsn()), "-f", "/dev/null");
        try (SlotPositions slots = new SlotPositions(b.sandbox())) {
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(stderr.toFile()).start();
            long peak = -1;
            long attachedAt = 0;
            while (true) {
                if (attachedAt == 0 && slots.active(b.slot())) {
                    attachedAt = System.nanoTime();
                }
                long hwm = ProcessMemory.peakRssKib(p.pid());
                peak = Math.max(peak, hwm);
                if (!p.isAlive()) {
                    if (p.exitValue() != 0) {
                        throw new IllegalStateException("pg_recvlogical exited with " + p.exitValue() + ": " + Files.readString(stderr));
                    }
                    return new Measurement((System.nanoTime() - t0) / 1e9, attached(t0, attachedAt), peak, "stopped at --endpos");
                }
                if (slots.confirmedFlush(b.slot()) >= b.endLsn()) {
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    p.destroy();
                    p.waitFor(10, TimeUnit.SECONDS);
                    return new Measurement(seconds, attached(t0, attachedAt), peak, "confirmed_flush_lsn reached the end");
                }
                if (System.nanoTime() - t0 > TIMEOUT_NANOS) {
                    p.destroyForcibly().waitFor();
                    throw new IllegalStateException("pg_recvlogical did not drain slot " + b.slot() + " to "
                            + Lsns.text(b.endLsn()) + " within 120 s: " + Files.readString(stderr));
                }
                Thread.sleep(20);
            }
        } finally {
            try {
                Files.deleteIfExists(stderr);
            } catch (IOException ignored) {
                // a temp file left behind is harmless
            }
        }
    }

    /** A run too short to see the slot active between two polls counts as attached at once. */
    private static double attached(long t0, long attachedAt) {
        return attachedAt == 0 ? 0 : (attachedAt - t0) / 1e9;
    }
}

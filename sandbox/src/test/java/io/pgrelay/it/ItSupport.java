package io.pgrelay.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentProcess;
import io.pgrelay.sandbox.Sandbox;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/** Small helpers shared by the integration tests. */
final class ItSupport {

    static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicInteger CLUSTERS = new AtomicInteger();

    private ItSupport() {
    }

    /** A cluster name no other test uses (names the slot, publication, topics and transactional id). */
    static String uniqueCluster(String prefix) {
        return prefix + CLUSTERS.incrementAndGet() + "x" + Long.toString(System.nanoTime() % 100_000, 36);
    }

    static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + text, e);
        }
    }

    static String header(ConsumerRecord<?, ?> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    static AgentProcess startAgent(AgentConfigs configs, String id, String... jvmArgs) throws IOException {
        return AgentProcess.start(id, configs.yaml(id, freePort()), jvmArgs);
    }

    static String queryOne(Sandbox sandbox, String sql) {
        try (Connection c = sandbox.postgres().connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Waits until the agent holds the slot (its walsender is active). */
    static void awaitSlotActive(Sandbox sandbox, String slot, Duration timeout) throws InterruptedException {
        await("slot " + slot + " active", timeout,
                () -> "t".equals(queryOne(sandbox, "SELECT active FROM pg_replication_slots WHERE slot_name = '" + slot + "'")));
    }

    /**
     * For after the agent stopped: waits until its walsender has let go of the slot (PostgreSQL
     * notices the closed connection a moment later), drops slot and publication, and fails if the
     * slot is still there — a leaked slot keeps WAL and takes one of the server's slots.
     */
    static void dropSlotAndPublicationOnceReleased(Sandbox sandbox, String slot) throws InterruptedException {
        String active = "SELECT active FROM pg_replication_slots WHERE slot_name = '" + slot + "'";
        await("slot " + slot + " released", Duration.ofSeconds(10), () -> !"t".equals(queryOne(sandbox, active)));
        dropSlotAndPublication(sandbox, slot);
        if (queryOne(sandbox, active) != null) {
            throw new IllegalStateException("slot " + slot + " is still there after dropping it");
        }
    }

    static void dropSlotAndPublication(Sandbox sandbox, String slot) {
        sandbox.postgres().execute(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '" + slot + "' AND NOT active",
                "DROP PUBLICATION IF EXISTS " + slot);
    }
}

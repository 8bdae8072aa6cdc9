package io.pgrelay.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgrelay.sandbox.cluster.AgentHttp;
import io.pgrelay.sandbox.Sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/** Helpers of the dashboard's integration tests. */
final class DashboardItSupport {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicInteger CLUSTERS = new AtomicInteger();

    private DashboardItSupport() {
    }

    static String uniqueCluster(String prefix) {
        return prefix + CLUSTERS.incrementAndGet() + "x" + Long.toString(System.nanoTime() % 100_000, 36);
    }

    /** The dashboard's {@code /api/cluster}, or null while it does not answer. */
    static JsonNode cluster(String dashboardUrl) {
        try {
            AgentHttp.Response r = AgentHttp.get(dashboardUrl, "/api/cluster");
            return r.status() == 200 ? JSON.readTree(r.body()) : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    static JsonNode agent(JsonNode cluster, String id) {
        for (JsonNode a : cluster.path("agents")) {
            if (id.equals(a.path("agent").asText())) {
                return a;
            }
        }
        return null;
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what);
            }
            Thread.sleep(100);
        }
    }

    /** The project's root (holds docs/design.md), found upwards from the working folder. */
    static Path projectRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isRegularFile(dir.resolve("docs/design.md"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("no docs/design.md above " + Path.of("").toAbsolutePath());
        }
        return dir;
    }

    /** After the agents stopped: waits until the slot is released, then drops slot and publication. */
    static void dropSlotAndPublicationOnceReleased(Sandbox sandbox, String slot) throws InterruptedException {
        String active = "SELECT active FROM pg_replication_slots WHERE slot_name = '" + slot + "'";
        await("slot " + slot + " released", Duration.ofSeconds(10), () -> !"t".equals(queryOne(sandbox, active)));
        sandbox.postgres().execute(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '" + slot + "' AND NOT active",
                "DROP PUBLICATION IF EXISTS " + slot);
    }

    private static String queryOne(Sandbox sandbox, String sql) {
        try (Connection c = sandbox.postgres().connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}

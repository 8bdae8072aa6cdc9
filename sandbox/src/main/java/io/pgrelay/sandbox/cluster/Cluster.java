package io.pgrelay.sandbox.cluster;

import io.pgrelay.sandbox.server.Ports;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/** N agent processes of one cluster against the sandbox, each with its own HTTP port. */
public final class Cluster implements AutoCloseable {

    public record Member(AgentProcess process, String url) {
        public String id() {
            return process.id();
        }
    }

    private final List<Member> members = new ArrayList<>();
    private Thread supervisor; // guarded by this
    private boolean closed;    // guarded by this

    public static Cluster start(AgentConfigs configs, int agents, String... jvmArgs) throws IOException {
        Cluster cluster = new Cluster();
        for (int i = 1; i <= agents; i++) {
            int port = Ports.free();
            String id = "agent-" + i;
            cluster.members.add(new Member(AgentProcess.start(id, configs.yaml(id, port), jvmArgs), "http://127.0.0.1:" + port));
        }
        return cluster;
    }

    public List<Member> members() {
        return members;
    }

    public Member member(String id) {
        return members.stream().filter(m -> m.id().equals(id)).findFirst().orElseThrow();
    }

    /** The member whose /status says it leads, if exactly one does. */
    public Optional<Member> leader() {
        Member found = null;
        for (Member m : members) {
            if (!m.process().isAlive()) {
                continue;
            }
            Optional<JsonNode> s = AgentHttp.status(m.url());
            if (s.isPresent() && "leader".equals(s.get().path("role").asText())) {
                if (found != null) {
                    return Optional.empty();
                }
                found = m;
            }
        }
        return Optional.ofNullable(found);
    }

    /** Whether {@code m} runs and its {@code /ready} answers 200: streaming as leader, or a standby able to take over at once. */
    public static boolean ready(Member m) {
        try {
            return m.process().isAlive() && AgentHttp.get(m.url(), "/ready").status() == 200;
        } catch (IOException e) {
            return false;   // not listening yet
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Waits until exactly one member leads; returns it. */
    public Member awaitLeader(long timeoutMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (System.currentTimeMillis() < deadline) {
            Optional<Member> l = leader();
            if (l.isPresent()) {
                return l.get();
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("no single leader within " + timeoutMillis + " ms");
    }

    /**
     * Restarts a member whose process died, {@code delay} after it was seen dead, as Kubernetes or
     * systemd would; {@code restarted} is told on this cluster's supervisor thread. Ends with {@link #close()}.
     */
    public synchronized void restartDeadMembers(Duration delay, Consumer<Member> restarted) {
        if (supervisor != null) {
            throw new IllegalStateException("already restarting dead members");
        }
        supervisor = new Thread(() -> superviseUntilClosed(delay, restarted), "cluster-supervisor");
        supervisor.setDaemon(true);
        supervisor.start();
    }

    private void superviseUntilClosed(Duration delay, Consumer<Member> restarted) {
        Map<Member, Long> deadSince = new HashMap<>();
        try {
            while (true) {
                Thread.sleep(200);
                for (Member m : members) {
                    if (m.process().isAlive()) {
                        deadSince.remove(m);
                        continue;
                    }
                    long now = System.nanoTime();
                    if (now - deadSince.computeIfAbsent(m, k -> now) < delay.toNanos()) {
                        continue;
                    }
                    synchronized (this) {
                        if (closed) {
                            return;
                        }
                        try {
                            m.process().start();
                        } catch (IOException e) {
                            System.err.println("could not restart " + m.id() + ": " + e.getMessage());
                            continue;
                        }
                    }
                    deadSince.remove(m);
                    restarted.accept(m);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() throws Exception {
        Thread restarting;
        synchronized (this) {
            closed = true;
            restarting = supervisor;
        }
        if (restarting != null) {
            restarting.interrupt();
            restarting.join(5_000);
        }
        Exception failure = null;
        for (Member m : members) {
            try {
                m.process().close();
            } catch (Exception e) {
                failure = e;
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}

package io.pgrelay.sandbox.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentProcess;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Instant;

/**
 * pgrelay itself: a leader agent as a child process ({@link KafkaCandidate#JVM_ARGS}, default settings), and with
 * {@code --standby} a standby started once the leader holds the slot, as in production. Done when
 * the slot's {@code confirmed_flush_lsn} reached the workload's end — the agent confirms only after
 * the Kafka commit — and a {@code read_committed} consumer has counted every row.
 */
final class PgRelayAgent extends KafkaCandidate {

    private static final String[] JVM_ARGS = jvmArgs();
    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * {@code -Dbench.agentKafka="commitInterval: 20ms;producer.linger.ms: 1"}: lines under {@code kafka:}
     * (a {@code producer.} prefix puts one under {@code kafka.producer}), to try settings.
     */
    private static final String[] KAFKA_LINES = System.getProperty("bench.agentKafka", "").isBlank()
            ? new String[0] : System.getProperty("bench.agentKafka").split(";");

    /** {@link #JVM_ARGS} of both candidates; {@code -Dbench.agentJvmArgs="..."} adds more (e.g. a JFR recording), separated by spaces or ";". */
    private static String[] jvmArgs() {
        java.util.List<String> args = new java.util.ArrayList<>(KafkaCandidate.JVM_ARGS);
        String extra = System.getProperty("bench.agentJvmArgs", "").trim();
        if (!extra.isEmpty()) {
            args.addAll(java.util.List.of(extra.split("[\\s;]+")));   // ";" too: BENCH_JAVA_OPTS is split on spaces
        }
        return args.toArray(String[]::new);
    }

    private final boolean withStandby;
    private final String name;
    /** The cluster of a run is this and the run's name, e.g. {@code bench_b1}. */
    private final String clusterPrefix;
    private final String[] kafkaLines;
    /** Whether the latency workload can time its records: pgrelay's own event carries {@code committedAt}. */
    private final boolean timesLatency;
    /** Only the benchmark's main thread touches these, one run at a time. */
    private AgentConfigs configs;
    private AgentProcess standby;
    private String standbyNote = "no standby";

    PgRelayAgent(boolean withStandby) {
        this(withStandby, "pgrelay", "bench_", KAFKA_LINES, true);
    }

    private PgRelayAgent(boolean withStandby, String name, String clusterPrefix, String[] kafkaLines, boolean timesLatency) {
        this.withStandby = withStandby;
        this.name = name;
        this.clusterPrefix = clusterPrefix;
        this.kafkaLines = kafkaLines;
        this.timesLatency = timesLatency;
    }

    /**
     * pgrelay writing Debezium's envelope ({@code --formats}): a candidate of its own, with its own
     * cluster and slot, reading the run's publication; {@code kafkaLines} as {@code -Dbench.agentKafka}'s.
     * Throughput workloads only: its records carry no pgrelay {@code committedAt}.
     */
    static PgRelayAgent debeziumFormat(String serialization, String clusterPrefix, String... kafkaLines) {
        String[] lines = new String[kafkaLines.length + 2];
        lines[0] = "format: debezium";
        lines[1] = "serialization: " + serialization;
        System.arraycopy(kafkaLines, 0, lines, 2, kafkaLines.length);
        return new PgRelayAgent(false, "pgrelay debezium/" + serialization, clusterPrefix, lines, false);
    }

    /** Whether the latency workload can time this candidate's records (pgrelay's own event has {@code committedAt}). */
    boolean timesLatency() {
        return timesLatency;
    }

    /** The agent's cluster for a run; its slot and publication are {@code pgrelay_<cluster>}. */
    static String cluster(String run) {
        return "bench_" + run;
    }

    static String publication(String run) {
        return "pgrelay_" + cluster(run);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String slotPrefix() {
        return "pgrelay_" + clusterPrefix;
    }

    @Override
    String topic(String slot, String table) {
        return clusterOf(slot) + "." + table;
    }

    /** The agent derives its slot from its cluster: {@code pgrelay_<cluster>}. */
    private static String clusterOf(String slot) {
        return slot.substring("pgrelay_".length());
    }

    @Override
    Child launch(Target t) throws Exception {
        configs = new AgentConfigs(t.sandbox(), clusterOf(t.slot())).tables(t.table()).publication(t.publication());
        for (String line : kafkaLines) {
            String l = line.trim();
            if (l.startsWith("producer.")) {   // producer.retry.backoff.ms: 5 → kafka.producer
                int colon = l.indexOf(':');
                configs.producer(l.substring("producer.".length(), colon).trim(), l.substring(colon + 1).trim());
            } else {
                configs.kafka(l);
            }
        }
        standbyNote = "no standby";
        AgentProcess agent = AgentProcess.start("bench-1", configs.yaml("bench-1", freePort()), withCds(cdsArgs(true)));
        return new Child() {
            @Override
            public long pid() {
                return agent.pid();
            }

            @Override
            public boolean isAlive() {
                return agent.isAlive();
            }

            @Override
            public String log() throws IOException {
                return agent.log();
            }

            @Override
            public void close() throws Exception {
                agent.close();
            }
        };
    }

    @Override
    void attached(Target t) throws Exception {
        if (withStandby) {
            // only now, so that the measured process is the one that won the slot
            standby = AgentProcess.start("bench-2", configs.yaml("bench-2", freePort()), withCds(cdsArgs(false)));
        }
    }

    private static String[] withCds(java.util.List<String> cds) {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of(JVM_ARGS));
        args.addAll(cds);
        return args.toArray(String[]::new);
    }

    @Override
    long commitMicros(byte[] value) {
        try {
            Instant at = Instant.parse(JSON.readTree(value).get("committedAt").asText());
            return at.getEpochSecond() * 1_000_000 + at.getNano() / 1000;
        } catch (IOException e) {
            throw new IllegalStateException("a pgrelay record that is not JSON: " + e.getMessage(), e);
        }
    }

    @Override
    boolean confirmsSlot() {
        return true;
    }

    @Override
    String note(String log) {
        if (standby != null) {
            standbyNote = "standby peak RSS " + ProcessMemory.peakRssKib(standby.pid()) / 1024 + " MB";
        }
        return JVM_NOTE + cdsNote() + ", " + (kafkaLines.length == 0 ? "default settings" : String.join(", ", kafkaLines)) + "; " + standbyNote + "; leader log: " + problemLines(log);
    }

    @Override
    void finished() throws Exception {
        if (standby != null) {
            standby.close();
            standby = null;
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}

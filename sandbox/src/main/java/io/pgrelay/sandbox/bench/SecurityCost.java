package io.pgrelay.sandbox.bench;

import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentProcess;
import io.pgrelay.sandbox.server.Kafka;
import io.pgrelay.sandbox.server.Ports;
import io.pgrelay.sandbox.server.Postgres;
import io.pgrelay.sandbox.server.SecureKafka;
import io.pgrelay.sandbox.server.TlsPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * What TLS and SCRAM cost: the 1000×1000 backlog (1,000,000 rows in transactions of 1,000, written
 * before the agent starts) drained by one agent from a plaintext PostgreSQL into a plaintext Kafka,
 * and from a PostgreSQL that takes TLS only with SCRAM ({@link TlsPostgres}, {@code verify-full})
 * into a Kafka that takes SASL_SSL with SCRAM-SHA-512 and ACLs only ({@link SecureKafka}), the two
 * alternating in one run. Both brokers run in this JVM with the same settings but their listeners.
 * Done is the slot's {@code confirmed_flush_lsn} reaching the workload's end (the agent confirms
 * only what Kafka committed).
 *
 * <pre>java -cp sandbox/target/pgrelay-sandbox.jar io.pgrelay.sandbox.bench.SecurityCost [--repeats N] [--rows N]
 *     [--only plaintext|secured] [--agent-jvm "ARGS"]</pre>
 *
 * <p>The agent runs with the benchmark's flags ({@code -Xmx192m -XX:+UseSerialGC}, as in {@link Bench});
 * {@code --agent-jvm} adds JVM options to the agent's command line after them (split at spaces; {@code {run}}
 * becomes the run's name, {@code costp1}, {@code costs1}, …), e.g. a flight recording per run:
 * {@code --agent-jvm "-XX:StartFlightRecording=filename=/tmp/{run}.jfr,settings=profile"}.
 */
public final class SecurityCost {

    private static final int ROWS_PER_TRANSACTION = 1_000;

    private SecurityCost() {
    }

    private record Result(String setup, double launchToDone, double attachedToDone, long rows, double cpuSeconds) {
        double rowsPerSecond() {
            return rows / attachedToDone;
        }
    }

    public static void main(String[] args) throws Exception {
        int repeats = 3;
        long rows = 1_000_000;
        String only = null;
        String agentJvm = "";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--repeats" -> repeats = Integer.parseInt(args[++i]);
                case "--rows" -> rows = Long.parseLong(args[++i]);
                case "--only" -> only = args[++i];
                case "--agent-jvm" -> agentJvm = args[++i];
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (--repeats N, --rows N, --only plaintext|secured, --agent-jvm ARGS)");
            }
        }
        List<Result> results = new ArrayList<>();
        try (Postgres plainPg = Postgres.start(); Kafka plainKafka = Kafka.start();
                TlsPostgres tlsPg = TlsPostgres.start(); SecureKafka secureKafka = SecureKafka.start()) {
            for (int r = 1; r <= repeats; r++) {
                String plain = "costp" + r;
                if (!"secured".equals(only)) {
                    results.add(drain("plaintext", plain, rows, plainPg::connect, jvmArgs(agentJvm, plain),
                            new AgentConfigs(null, plain).postgres(plainPg).bootstrapServers(plainKafka.bootstrapServers())));
                }
                if ("plaintext".equals(only)) {
                    continue;
                }
                String secured = "costs" + r;
                grant(secureKafka, secured);
                results.add(drain("TLS + SCRAM", secured, rows, tlsPg::connect, jvmArgs(agentJvm, secured),
                        new AgentConfigs(null, secured).postgres(tlsPg.server())
                                .login("postgres", TlsPostgres.SCRAM_ROLE, TlsPostgres.SCRAM_PASSWORD)
                                .postgresTls("{ mode: verify-full, ca: '" + tlsPg.ca().certificate() + "' }")
                                .bootstrapServers(secureKafka.bootstrapServers())
                                .kafka("security: { protocol: SASL_SSL, sasl: { mechanism: SCRAM-SHA-512, username: "
                                        + SecureKafka.AGENT_USER + ", password: '" + SecureKafka.AGENT_PASSWORD + "' }, tls: { ca: '"
                                        + secureKafka.ca().certificate() + "' } }")));
            }
        }
        System.out.printf("%n| setup | rows/s (slot held → drained) | launch → drained | agent CPU |%n|---|---|---|---|%n");
        for (Result r : results) {
            System.out.printf("| %s | %,.0f | %.2f s | %.1f s |%n", r.setup(), r.rowsPerSecond(), r.launchToDone(), r.cpuSeconds());
        }
        for (String setup : List.of("plaintext", "TLS + SCRAM")) {
            double[] rates = results.stream().filter(r -> r.setup().equals(setup)).mapToDouble(Result::rowsPerSecond).sorted().toArray();
            if (rates.length == 0) {
                continue;
            }
            System.out.printf("%s: median %,.0f rows/s over %d runs%n", setup, rates[rates.length / 2], rates.length);
        }
    }

    /** The benchmark's agent flags ({@link KafkaCandidate#JVM_ARGS}, as the agents of {@link Bench} run), then {@code --agent-jvm}'s. */
    private static String[] jvmArgs(String template, String run) {
        List<String> args = new ArrayList<>(KafkaCandidate.JVM_ARGS);
        if (!template.isBlank()) {
            args.addAll(List.of(template.replace("{run}", run).strip().split("\\s+")));
        }
        return args.toArray(String[]::new);
    }

    private interface Connector {
        Connection connect() throws SQLException;
    }

    private static Result drain(String setup, String cluster, long rows, Connector pg, String[] agentJvm, AgentConfigs configs)
            throws Exception {
        String table = "public." + cluster + "_t";
        configs.tables(table);
        try (Connection c = pg.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE " + table + " (id bigint PRIMARY KEY, version int, payload text)");
        }
        try (AgentProcess agent = AgentProcess.prepare("cost-1", configs.yaml("cost-1", Ports.free()), agentJvm)) {
            AgentProcess.CommandResult init = agent.runCommand("init", 120);
            if (init.exitCode() != 0) {
                throw new IllegalStateException(setup + ": init failed:\n" + init.output());
            }
            String endLsn;
            try (Connection c = pg.connect(); PreparedStatement ins = c.prepareStatement("INSERT INTO " + table
                    + " SELECT g, 0, repeat('x', 100) || g FROM generate_series(?::bigint, ?::bigint) g")) {
                for (long first = 1; first <= rows; first += ROWS_PER_TRANSACTION) {
                    ins.setLong(1, first);
                    ins.setLong(2, Math.min(rows, first + ROWS_PER_TRANSACTION - 1));
                    ins.executeUpdate();
                }
                endLsn = query(c, "SELECT pg_current_wal_insert_lsn()::text");
            }
            long t0 = System.nanoTime();
            agent.start();
            long attachedAt = 0;
            long doneAt = 0;
            try (Connection c = pg.connect()) {
                while (doneAt == 0) {
                    if (!agent.isAlive()) {
                        throw new IllegalStateException(setup + ": the agent exited:\n" + agent.log());
                    }
                    String[] slot = query(c, "SELECT active || ' ' || coalesce(confirmed_flush_lsn >= '" + endLsn + "', false)"
                            + " FROM pg_replication_slots WHERE slot_name = '" + configs.slot() + "'").split(" ");
                    long now = System.nanoTime();
                    if (attachedAt == 0 && slot[0].equals("true")) {
                        attachedAt = now;
                    }
                    if (slot[1].equals("true")) {
                        doneAt = now;
                    }
                    if (now - t0 > TimeUnit.SECONDS.toNanos(300)) {
                        throw new IllegalStateException(setup + ": not drained within 300 s:\n" + agent.log());
                    }
                    Thread.sleep(20);
                }
            }
            ProcessCpu cpu = ProcessCpu.of(agent.pid());
            agent.stop(30);
            Result result = new Result(setup, (doneAt - t0) / 1e9, (doneAt - attachedAt) / 1e9, rows, cpu.seconds());
            System.out.printf("%s (%s): %,.0f rows/s from holding the slot, %.2f s from launch, agent CPU %.1f s%n",
                    setup, cluster, result.rowsPerSecond(), result.launchToDone(), result.cpuSeconds());
            return result;
        } finally {
            try (Connection c = pg.connect(); Statement s = c.createStatement()) {
                s.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '"
                        + configs.slot() + "' AND NOT active");
                s.execute("DROP PUBLICATION IF EXISTS " + configs.slot());
                s.execute("DROP TABLE " + table);
            }
        }
    }

    /** The agent's ACLs on the secured broker for one cluster: its topics, the checkpoint topic and its transactional id. */
    private static void grant(SecureKafka kafka, String cluster) throws Exception {
        String principal = "User:" + SecureKafka.AGENT_USER;
        List<AclBinding> acls = new ArrayList<>();
        for (String prefix : List.of(cluster + ".", "_pgrelay." + cluster + ".")) {
            for (AclOperation op : List.of(AclOperation.CREATE, AclOperation.WRITE, AclOperation.READ, AclOperation.DESCRIBE)) {
                acls.add(new AclBinding(new ResourcePattern(ResourceType.TOPIC, prefix, PatternType.PREFIXED),
                        new AccessControlEntry(principal, "*", op, AclPermissionType.ALLOW)));
            }
        }
        acls.add(new AclBinding(new ResourcePattern(ResourceType.TRANSACTIONAL_ID, "pgrelay-" + cluster, PatternType.LITERAL),
                new AccessControlEntry(principal, "*", AclOperation.WRITE, AclPermissionType.ALLOW)));
        try (Admin admin = kafka.admin()) {
            admin.createAcls(acls).all().get(30, TimeUnit.SECONDS);
        }
    }

    private static String query(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}

package io.pgrelay.agent.cli;

import io.pgrelay.agent.config.CoordinationConfig;
import io.pgrelay.agent.config.FormatConfig;
import io.pgrelay.agent.config.PgRelayConfig;
import io.pgrelay.agent.core.Finding;
import io.pgrelay.agent.kafka.KafkaProbe;
import io.pgrelay.agent.postgres.FailoverSlots;
import io.pgrelay.agent.postgres.PgConnectException;
import io.pgrelay.agent.postgres.PgConnections;
import io.pgrelay.agent.postgres.Preflight;
import io.pgrelay.agent.registry.SchemaRegistryClient;
import io.pgrelay.coordination.Member;
import io.pgrelay.coordination.MemberRegistry;
import io.pgrelay.coordination.ZooKeeperAuth;
import io.pgrelay.coordination.ZooKeeperTls;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "check", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Validate the configuration, reach PostgreSQL, Kafka, (in zookeeper mode) ZooKeeper and (with serialization: avro) the"
        + " schema registry, and report one line per check"
        + " (OK, NOTE or FAIL). Exit status 0 when nothing failed, else 1.")
final class CheckCommand extends ConfiguredCommand {

    private final Duration kafkaTimeout;

    @Option(names = "--kafka-timeout", paramLabel = "SECONDS", description = "how long each Kafka call may take"
            + " (default: 5; a TLS and SASL handshake from a cold start on a busy machine can take longer)")
    private Integer kafkaTimeoutSeconds;

    CheckCommand(Duration kafkaTimeout) {
        this.kafkaTimeout = kafkaTimeout;
    }

    @Override
    int run(PgRelayConfig config) {
        List<Finding> findings = new ArrayList<>();
        findings.add(Finding.ok("config: " + configFile + " is valid (cluster " + config.cluster() + ", agent "
                + config.agent().id() + ")"));
        PgConnections connections = PgConnections.of(config);
        findings.addAll(new Preflight(connections, config.postgres()).run());
        String unverified = connections.unverifiedServerWarning();
        if (unverified != null) {
            findings.add(Finding.note("postgres: tls: " + unverified));
        }
        findings.addAll(failover(connections, config.postgres().slot()));
        findings.addAll(KafkaProbe.check(config, "pgrelay-check-" + config.agent().id(),
                kafkaTimeoutSeconds == null ? kafkaTimeout : Duration.ofSeconds(kafkaTimeoutSeconds)));
        if (config.kafka().formats().serialization() == FormatConfig.Serialization.AVRO) {
            findings.add(new SchemaRegistryClient(config.kafka().formats().schemaRegistry()).check());
        }
        if (config.coordination().mode() == CoordinationConfig.Mode.ZOOKEEPER) {
            findings.add(zookeeper(config));
        }
        findings.forEach(out()::println);
        long failed = findings.stream().filter(Finding::failed).count();
        out().println(failed == 0 ? "check: all " + findings.size() + " checks passed"
                : "check: " + failed + " of " + findings.size() + " checks failed");
        return failed == 0 ? Main.EXIT_OK : Main.EXIT_FAILURE;
    }

    /**
     * Reaches ZooKeeper as the election would — the same TLS and SASL login — and reads the
     * cluster's member registry, which the ACLs of {@code auth} let only that user read.
     */
    static Finding zookeeper(PgRelayConfig config) {
        CoordinationConfig.Zookeeper zk = config.coordination().zookeeper();
        ZooKeeperAuth auth = zk.authenticates() ? new ZooKeeperAuth(zk.username(), zk.password().reveal()) : null;
        ZooKeeperTls tls = zk.tls() ? new ZooKeeperTls(zk.tlsCa()) : null;
        String how = (tls != null ? "over TLS" : "in plaintext") + (auth != null ? " as " + zk.username() : "");
        try {
            List<Member> members = MemberRegistry.read(zk.connect(), config.cluster(), auth, tls);
            return Finding.ok("zookeeper: " + zk.connect() + " reached " + how + "; cluster " + config.cluster() + " has "
                    + members.size() + " member(s)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Finding.fail("zookeeper: interrupted");
        } catch (Exception e) {
            return Finding.fail("zookeeper: " + how + ": " + e.getMessage());
        }
    }

    /**
     * Whether the slot survives a promotion of a standby. A server without standbys is a fine
     * deployment, so what only matters after a promotion is a NOTE; what stalls streaming now fails.
     */
    static List<Finding> failover(PgConnections connections, String slot) {
        try (Connection c = connections.open()) {
            FailoverSlots.Readiness r = FailoverSlots.inspect(c, connections, slot);
            if (r.ready()) {
                return List.of(Finding.ok("postgres: failover: slot " + slot + " is a failover slot"
                        + (r.syncedOn() == null ? "" : ", synced on standby " + String.join(", ", r.syncedOn()))
                        + "; a promoted standby streams on from it"));
            }
            return r.problems().stream().map(p -> p.stallsStreaming() ? Finding.fail("postgres: failover: " + p.text())
                    : Finding.note("postgres: failover: " + p.text())).toList();
        } catch (PgConnectException e) {
            return List.of();   // Preflight has said so already
        } catch (SQLException e) {
            return List.of(Finding.note("postgres: failover: cannot tell whether slot " + slot + " survives a promotion: "
                    + e.getMessage()));
        }
    }
}

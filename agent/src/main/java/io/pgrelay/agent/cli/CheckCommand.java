package io.pgrelay.agent.cli;

import io.pgrelay.agent.config.PgRelayConfig;
import io.pgrelay.agent.core.Finding;
import io.pgrelay.agent.kafka.KafkaProbe;
import io.pgrelay.agent.postgres.PgConnections;
import io.pgrelay.agent.postgres.Preflight;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;

@Command(name = "check", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Validate the configuration, reach PostgreSQL and Kafka, and report one line per check"
        + " (OK, NOTE or FAIL). Exit status 0 when nothing failed, else 1.")
final class CheckCommand extends ConfiguredCommand {

    private final Duration kafkaTimeout;

    CheckCommand(Duration kafkaTimeout) {
        this.kafkaTimeout = kafkaTimeout;
    }

    @Override
    int run(PgRelayConfig config) {
        List<Finding> findings = new ArrayList<>();
        findings.add(Finding.ok("config: " + configFile + " is valid (cluster " + config.cluster() + ", agent "
                + config.agent().id() + ")"));
        findings.addAll(new Preflight(PgConnections.of(config), config.postgres()).run());
        findings.add(KafkaProbe.reach(config.kafka(), "pgrelay-check-" + config.agent().id(), kafkaTimeout));
        findings.forEach(out()::println);
        long failed = findings.stream().filter(Finding::failed).count();
        out().println(failed == 0 ? "check: all " + findings.size() + " checks passed"
                : "check: " + failed + " of " + findings.size() + " checks failed");
        return failed == 0 ? Main.EXIT_OK : Main.EXIT_FAILURE;
    }
}

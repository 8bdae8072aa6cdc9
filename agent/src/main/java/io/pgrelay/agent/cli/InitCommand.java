package io.pgrelay.agent.cli;

import io.pgrelay.agent.config.PgRelayConfig;
import io.pgrelay.agent.core.Finding;
import io.pgrelay.agent.postgres.PgConnectException;
import io.pgrelay.agent.postgres.PgConnections;
import io.pgrelay.agent.postgres.Preflight;
import io.pgrelay.agent.postgres.ReplicationSetup;
import java.sql.Connection;
import java.util.List;
import picocli.CommandLine.Command;

@Command(name = "init", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Check PostgreSQL's settings, then create the publication and the slot when missing.")
final class InitCommand extends ConfiguredCommand {

    @Override
    int run(PgRelayConfig config) throws Exception {
        try (Connection c = PgConnections.of(config).open()) {
            List<Finding> failed = new Preflight(PgConnections.of(config), config.postgres()).run(c).stream()
                    .filter(Finding::failed).toList();
            if (!failed.isEmpty()) {
                failed.forEach(f -> err().println(f.message()));
                err().println("init: " + failed.size() + (failed.size() == 1 ? " problem" : " problems") + "; nothing was created");
                return Main.EXIT_FAILURE;
            }
            List<String> done = new ReplicationSetup(config.postgres()).ensure(c);
            done.forEach(out()::println);
            if (done.isEmpty()) {
                out().println("nothing to do: publication " + config.postgres().publication() + " and slot "
                        + config.postgres().slot() + " are in place");
            }
            return Main.EXIT_OK;
        } catch (PgConnectException e) {
            err().println(e.getMessage());
            return Main.EXIT_FAILURE;
        }
    }
}

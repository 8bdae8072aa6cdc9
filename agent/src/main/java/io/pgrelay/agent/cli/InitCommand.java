package io.pgrelay.agent.cli;

import io.pgrelay.agent.config.PgRelayConfig;
import io.pgrelay.agent.core.Finding;
import io.pgrelay.agent.postgres.DdlTrigger;
import io.pgrelay.agent.postgres.PgConnectException;
import io.pgrelay.agent.postgres.PgConnections;
import io.pgrelay.agent.postgres.Preflight;
import io.pgrelay.agent.postgres.ReplicationSetup;
import java.sql.Connection;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "init", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Check PostgreSQL's settings, then create the publication and the slot when missing.")
final class InitCommand extends ConfiguredCommand {

    @Option(names = "--ddl", description = "also install an event trigger that puts each DDL statement into the stream"
            + " (needs a superuser); its events go to kafka.schemaTopic")
    boolean ddl;

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
            if (ddl) {
                // First, so that nothing is created when the role may not create the trigger.
                new DdlTrigger(config.cluster(), config.postgres().slot()).ensure(c).forEach(out()::println);
            }
            List<String> done = new ReplicationSetup(config.postgres()).ensure(c);
            done.forEach(out()::println);
            if (done.isEmpty()) {
                out().println("nothing to do: publication " + config.postgres().publication() + " and slot "
                        + config.postgres().slot() + " are in place");
            }
            return Main.EXIT_OK;
        } catch (PgConnectException | DdlTrigger.NotSuperuserException e) {
            err().println(e.getMessage());
            return Main.EXIT_FAILURE;
        }
    }
}

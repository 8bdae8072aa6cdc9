package io.pgrelay.agent.cli;

import io.pgrelay.agent.config.PgRelayConfig;
import io.pgrelay.agent.postgres.DdlTrigger;
import io.pgrelay.agent.postgres.PgConnectException;
import io.pgrelay.agent.postgres.PgConnections;
import io.pgrelay.agent.postgres.ReplicationSetup;
import io.pgrelay.agent.postgres.SlotAdmin.SlotInUseException;
import java.sql.Connection;
import java.sql.SQLException;
import picocli.CommandLine.Command;

@Command(name = "teardown", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Drop the slot, the publication and the event trigger of init --ddl. PostgreSQL then keeps no WAL for pgrelay;"
        + " changes made until the next init are not captured.")
final class TeardownCommand extends ConfiguredCommand {

    @Override
    int run(PgRelayConfig config) throws Exception {
        try (Connection c = PgConnections.of(config).open()) {
            new ReplicationSetup(config.postgres()).teardown(c).forEach(out()::println);
            new DdlTrigger(config.cluster(), config.postgres().slot()).drop(c).forEach(out()::println);
            return Main.EXIT_OK;
        } catch (PgConnectException | SlotInUseException e) {
            err().println(e.getMessage());
            return Main.EXIT_FAILURE;
        } catch (SQLException e) {
            err().println("teardown: " + e.getMessage());
            return Main.EXIT_FAILURE;
        }
    }
}

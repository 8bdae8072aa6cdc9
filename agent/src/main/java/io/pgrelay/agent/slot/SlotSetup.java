package io.pgrelay.agent.slot;

import io.pgrelay.agent.failure.Failures;
import io.pgrelay.agent.config.PgRelayConfig;
import io.pgrelay.agent.core.Finding;
import io.pgrelay.agent.postgres.PgConnectException;
import io.pgrelay.agent.postgres.PgConnections;
import io.pgrelay.agent.postgres.Preflight;
import io.pgrelay.agent.postgres.ReplicationSetup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Before streaming: checks the server (wal_level, privileges, tables) and creates the publication
 * or adds the tables it lacks. The slot is the {@code SlotGuard}'s: created only for a new cluster.
 */
public final class SlotSetup {

    private static final Logger log = LoggerFactory.getLogger(SlotSetup.class);

    private SlotSetup() {
    }

    public static void ensure(PgRelayConfig config, PgConnections connections) throws SQLException {
        try (Connection c = connections.open()) {
            List<Finding> failures = new Preflight(connections, config.postgres()).run(c).stream()
                    .filter(Finding::failed).toList();
            if (!failures.isEmpty()) {
                throw new Failures.FatalException(failures.stream().map(Finding::message).collect(Collectors.joining("\n")));
            }
            for (String done : new ReplicationSetup(config.postgres()).ensurePublication(c)) {
                log.info("{}", done);
            }
        } catch (PgConnectException e) {
            throw new SQLException(e.getMessage(), e.sqlState(), e);
        }
    }
}

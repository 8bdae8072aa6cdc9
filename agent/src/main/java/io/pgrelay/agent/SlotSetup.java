package io.pgrelay.agent;

import io.pgrelay.agent.config.PgRelayConfig;
import io.pgrelay.agent.core.Finding;
import io.pgrelay.agent.postgres.PgConnectException;
import io.pgrelay.agent.postgres.PgConnections;
import io.pgrelay.agent.postgres.Preflight;
import io.pgrelay.agent.postgres.ReplicationSetup;
import io.pgrelay.agent.postgres.SlotAdmin;
import io.pgrelay.agent.postgres.SlotState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Before streaming: checks the server (wal_level, privileges, tables), creates the publication and
 * the slot when missing, and refuses a slot that lost WAL — streaming from it would skip changes.
 */
final class SlotSetup {

    private static final Logger log = LoggerFactory.getLogger(SlotSetup.class);

    private SlotSetup() {
    }

    static void ensure(PgRelayConfig config, PgConnections connections) throws SQLException {
        String slot = config.postgres().slot();
        try (Connection c = connections.open()) {
            List<Finding> failures = new Preflight(connections, config.postgres()).run(c).stream()
                    .filter(Finding::failed).toList();
            if (!failures.isEmpty()) {
                throw new Failures.FatalException(failures.stream().map(Finding::message).collect(Collectors.joining("\n")));
            }
            Optional<SlotState> state = new SlotAdmin(c).read(slot);
            if (state.isPresent() && state.get().walLost()) {
                throw new Failures.FatalException("slot " + slot + " has lost WAL it needed (wal_status = lost; confirmed "
                        + state.get().confirmedFlushLsn() + "): changes after that were not captured. Drop it with "
                        + "'teardown', re-create it with 'init', and re-snapshot the tables");
            }
            for (String done : new ReplicationSetup(config.postgres()).ensure(c)) {
                log.info("{}", done);
            }
        } catch (PgConnectException e) {
            throw new SQLException(e.getMessage(), e.sqlState(), e);
        }
    }
}

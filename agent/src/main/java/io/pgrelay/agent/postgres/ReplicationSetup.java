package io.pgrelay.agent.postgres;

import io.pgrelay.agent.config.PostgresConfig;
import io.pgrelay.agent.postgres.SlotAdmin.SlotInUseException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Creates the publication pgrelay needs in PostgreSQL (what {@code init} and {@code run} do when missing)
 * and removes it with the slot ({@code teardown}). Run {@link Preflight} first: this class assumes its checks passed.
 */
public final class ReplicationSetup {

    private final PostgresConfig postgres;

    public ReplicationSetup(PostgresConfig postgres) {
        this.postgres = postgres;
    }

    /**
     * Creates the publication, or adds the tables it lacks. Before the slot, because pgoutput looks
     * the publication up as of each change it decodes. The slot is {@code SlotCreation}'s: created
     * with its origin, and only for a cluster that has not streamed.
     *
     * @return what was done, one line each; empty when everything was already there
     */
    public List<String> ensurePublication(Connection c) throws SQLException {
        return new PublicationAdmin(c).ensure(postgres.publication(), postgres.tables());
    }

    /**
     * Drops the slot, then the publication. Refuses a slot in use, and a slot of that name that
     * pgrelay did not make (another plugin, another database): it may be someone else's.
     *
     * @return what was done or found, one line each
     */
    public List<String> teardown(Connection c) throws SQLException, SlotInUseException {
        List<String> done = new ArrayList<>();
        SlotAdmin slots = new SlotAdmin(c);
        Optional<SlotState> slot = slots.read(postgres.slot());
        String database = c.getCatalog();
        if (slot.isPresent() && (!"pgoutput".equals(slot.get().plugin()) || !database.equals(slot.get().database()))) {
            throw new SQLException("slot " + postgres.slot() + " is not pgrelay's (plugin " + slot.get().plugin() + ", database "
                    + slot.get().database() + "); not dropping it: drop it yourself if you mean to");
        }
        done.add(slots.drop(postgres.slot()) ? "dropped slot " + postgres.slot() : "slot " + postgres.slot() + " did not exist");
        done.add(new PublicationAdmin(c).drop(postgres.publication())
                ? "dropped publication " + postgres.publication()
                : "publication " + postgres.publication() + " did not exist");
        return done;
    }
}

package io.pgrelay.agent.postgres;

import io.pgrelay.agent.config.PostgresConfig;
import io.pgrelay.agent.core.Lsn;
import io.pgrelay.agent.postgres.SlotAdmin.SlotInUseException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Creates what pgrelay needs in PostgreSQL (what {@code init} does, and {@code run} when missing)
 * and removes it ({@code teardown}). Run {@link Preflight} first: this class assumes its checks passed.
 */
public final class ReplicationSetup {

    private final PostgresConfig postgres;

    public ReplicationSetup(PostgresConfig postgres) {
        this.postgres = postgres;
    }

    /**
     * Creates the publication, or adds the tables it lacks, then the slot. In this order because
     * pgoutput looks the publication up as of each change it decodes: changes made before the
     * publication existed could not be sent.
     *
     * @return what was done, one line each; empty when everything was already there
     */
    public List<String> ensure(Connection c) throws SQLException {
        List<String> done = new ArrayList<>(ensurePublication(c));
        SlotAdmin slots = new SlotAdmin(c);
        if (slots.read(postgres.slot()).isEmpty()) {
            Lsn from = slots.create(postgres.slot());
            done.add("created slot " + postgres.slot() + " (pgoutput); changes committed after " + from + " will be streamed");
        }
        return done;
    }

    /** The publication half of {@link #ensure}: the slot is created with its origin by {@code SlotCreation}. */
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

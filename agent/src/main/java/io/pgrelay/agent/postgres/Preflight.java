package io.pgrelay.agent.postgres;

import io.pgrelay.agent.config.PostgresConfig;
import io.pgrelay.agent.core.Finding;
import io.pgrelay.agent.core.TableId;
import io.pgrelay.agent.postgres.PublicationAdmin.PublicationState;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Checks that PostgreSQL is ready for pgrelay, before {@code init}, {@code check} and {@code run}
 * act: each finding one line naming the fix. What {@code init} (or {@code run}) creates by itself
 * — a missing slot or publication, tables missing from the publication — is a
 * {@link Finding.Status#NOTE}, not a failure, unless the role lacks the rights to do it.
 */
public final class Preflight {

    private final PgConnections connections;
    private final PostgresConfig postgres;

    public Preflight(PgConnections connections, PostgresConfig postgres) {
        this.connections = connections;
        this.postgres = postgres;
    }

    /** Connects, checks, disconnects. An unreachable server or a refused login is one failed finding. */
    public List<Finding> run() {
        try (Connection c = connections.open()) {
            return run(c);
        } catch (PgConnectException e) {
            return List.of(Finding.fail(e.getMessage()));
        } catch (SQLException e) {
            return List.of(Finding.fail("postgres: preflight query failed: " + e.getMessage()));
        }
    }

    /** Runs every check on an open plain connection. */
    public List<Finding> run(Connection c) throws SQLException {
        List<Finding> out = new ArrayList<>();
        Server server = Server.read(c);
        out.add(Finding.ok("postgres: connected to PostgreSQL " + server.version + " at " + postgres.maskedUrl() + " as " + server.role));
        if (server.walLevel.equals("logical")) {
            out.add(Finding.ok("postgres: wal_level is logical"));
        } else {
            out.add(Finding.fail("postgres: wal_level is '" + server.walLevel
                    + "'; set wal_level = logical in postgresql.conf and restart PostgreSQL"));
        }
        if (server.replication || server.superuser) {
            out.add(Finding.ok("postgres: role " + server.role + " may replicate"));
        } else {
            out.add(Finding.fail("postgres: role " + server.role + " lacks REPLICATION; as a superuser run ALTER ROLE "
                    + ident(server.role) + " WITH REPLICATION"));
        }
        List<TableId> existing = tables(c, server, out);
        slot(c, server, out);
        publication(c, server, existing, out);
        return out;
    }

    private List<TableId> tables(Connection c, Server server, List<Finding> out) throws SQLException {
        List<TableId> existing = new ArrayList<>();
        boolean allOwned = true;
        for (TableId t : postgres.tables()) {
            try (PreparedStatement ps = c.prepareStatement("SELECT c.relkind::text, pg_has_role(c.relowner, 'USAGE') FROM pg_class c"
                    + " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relname = ?")) {
                ps.setString(1, t.schema());
                ps.setString(2, t.table());
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        out.add(Finding.fail("postgres: table " + t + " (postgres.tables) does not exist in database "
                                + server.database + "; create it or remove it from postgres.tables"));
                    } else if (!rs.getString(1).equals("r") && !rs.getString(1).equals("p")) {
                        out.add(Finding.fail("postgres: " + t + " (postgres.tables) is not a table (relkind '" + rs.getString(1)
                                + "'); only tables can be published"));
                    } else {
                        existing.add(t);
                        allOwned &= rs.getBoolean(2) || server.superuser;
                    }
                }
            }
        }
        if (!postgres.tables().isEmpty() && existing.size() == postgres.tables().size()) {
            out.add(Finding.ok("postgres: " + (existing.size() == 1 ? "the configured table exists"
                    : "all " + existing.size() + " configured tables exist")));
        }
        server.ownsTables = allOwned;
        return existing;
    }

    private void slot(Connection c, Server server, List<Finding> out) throws SQLException {
        String name = postgres.slot();
        Optional<SlotState> found = new SlotAdmin(c).read(name);
        if (found.isEmpty()) {
            if (server.slotsUsed >= server.maxSlots) {
                out.add(Finding.fail("postgres: max_replication_slots is " + server.maxSlots + " and all " + server.slotsUsed
                        + " are in use; raise max_replication_slots in postgresql.conf and restart PostgreSQL"));
            } else {
                out.add(Finding.note("postgres: slot " + name + " does not exist yet; init (or run) creates it"));
            }
        } else {
            SlotState s = found.get();
            if (!s.isLogical()) {
                out.add(Finding.fail("postgres: slot " + name + " is a " + s.slotType() + " slot, not a logical one; choose another"
                        + " postgres.slot"));
            } else if (!"pgoutput".equals(s.plugin())) {
                out.add(Finding.fail("postgres: slot " + name + " uses plugin " + s.plugin() + ", not pgoutput; choose another"
                        + " postgres.slot, or drop that slot if nothing uses it: SELECT pg_drop_replication_slot('" + name + "')"));
            } else if (!server.database.equals(s.database())) {
                out.add(Finding.fail("postgres: slot " + name + " belongs to database " + s.database() + ", not " + server.database
                        + "; choose another postgres.slot or point postgres.url at " + s.database()));
            } else if (s.walLost()) {
                out.add(Finding.fail("postgres: slot " + name + " has lost required WAL; drop it with teardown and re-init"
                        + " — data between was not captured"));
            } else {
                out.add(describe(s));
            }
        }
        // A snapshot of a table without a key creates a temporary slot for a moment (see SnapshotWorker).
        int free = server.maxSlots - server.slotsUsed - (found.isEmpty() ? 1 : 0);
        if (free == 0) {
            out.add(Finding.note("postgres: max_replication_slots is " + server.maxSlots + " and the cluster's slot takes the"
                    + " last free one; a snapshot of a table without a key needs one more for a moment (a temporary slot)"
                    + " and retries until one is free: raise max_replication_slots to snapshot such tables"));
        }
        boolean ourSenderRuns = found.isPresent() && found.get().active();
        if (server.maxSenders == 0 || (!ourSenderRuns && server.sendersUsed >= server.maxSenders)) {
            out.add(Finding.fail("postgres: max_wal_senders is " + server.maxSenders + " and " + server.sendersUsed
                    + " are in use; raise max_wal_senders in postgresql.conf and restart PostgreSQL"));
        }
    }

    private static Finding describe(SlotState s) {
        String line = "postgres: slot " + s.name() + " (pgoutput) confirmed_flush_lsn " + s.confirmedFlushLsn() + ", retaining "
                + (s.retainedBytes() == null ? "no" : s.retainedBytes()) + " bytes of WAL, "
                + (s.active() ? "active (pid " + s.activePid() + ")" : "inactive");
        if ("unreserved".equals(s.walStatus())) {
            return Finding.note(line + "; wal_status is unreserved: it is past max_slot_wal_keep_size and WAL it needs"
                    + " may be removed at the next checkpoint");
        }
        return Finding.ok(line);
    }

    private void publication(Connection c, Server server, List<TableId> existing, List<Finding> out) throws SQLException {
        String name = postgres.publication();
        Optional<PublicationState> found = new PublicationAdmin(c).read(name);
        String target = postgres.allTables() ? "FOR ALL TABLES" : "FOR TABLE " + PublicationAdmin.quoted(postgres.tables());
        if (found.isEmpty()) {
            if (postgres.allTables() && !server.superuser) {
                out.add(Finding.fail("postgres: creating publication " + name + " FOR ALL TABLES needs a superuser; have one run"
                        + " CREATE PUBLICATION " + ident(name) + " FOR ALL TABLES"));
            } else if (!server.superuser && (!server.mayCreate || !server.ownsTables)) {
                out.add(Finding.fail("postgres: role " + server.role + " may not create publication " + name + " (it needs CREATE"
                        + " on database " + server.database + " and to own the tables); have the owner run CREATE PUBLICATION "
                        + ident(name) + " " + target));
            } else {
                out.add(Finding.note("postgres: publication " + name + " does not exist yet; init (or run) creates it " + target));
            }
            return;
        }
        PublicationState p = found.get();
        if (postgres.allTables() && !p.allTables()) {
            out.add(Finding.fail("postgres: publication " + name + " lists tables, but postgres.tables is empty (all tables);"
                    + " DROP PUBLICATION " + ident(name) + " and run init again"));
            return;
        }
        List<TableId> missing = p.missing(existing);
        if (!missing.isEmpty()) {
            String add = "ALTER PUBLICATION " + ident(name) + " ADD TABLE " + PublicationAdmin.quoted(missing);
            if (p.ownedByUs() && server.ownsTables) {
                out.add(Finding.note("postgres: publication " + name + " lacks " + PublicationAdmin.quoted(missing)
                        + "; init (or run) adds them: " + add));
            } else {
                out.add(Finding.fail("postgres: publication " + name + " lacks " + PublicationAdmin.quoted(missing) + " and role "
                        + server.role + " may not alter it; have its owner run " + add));
            }
        } else if (p.allTables() && !postgres.allTables()) {
            out.add(Finding.note("postgres: publication " + name + " is FOR ALL TABLES: changes of tables beyond"
                    + " postgres.tables will be streamed too"));
        } else {
            List<TableId> extra = postgres.allTables() ? List.of()
                    : p.tables().stream().filter(t -> !postgres.tables().contains(t)).toList();
            out.add(extra.isEmpty() ? Finding.ok("postgres: publication " + name + " publishes " + (p.allTables() ? "all tables"
                    : "the configured tables"))
                    : Finding.note("postgres: publication " + name + " also publishes " + PublicationAdmin.quoted(extra)
                    + ", which postgres.tables does not list; their changes will be streamed too"));
        }
    }

    /** An identifier as SQL needs it: bare when PostgreSQL would not fold or misread it, else quoted. */
    static String ident(String name) {
        return name.matches("[a-z_][a-z0-9_$]*") ? name : TableId.quoteIdent(name);
    }

    /** What the checks need to know of the server and the connected role, read in two queries. */
    private static final class Server {
        String version;
        String database;
        String role;
        String walLevel;
        int maxSlots;
        int maxSenders;
        boolean replication;
        boolean superuser;
        boolean mayCreate;
        boolean ownsTables = true;
        int slotsUsed;
        int sendersUsed;

        static Server read(Connection c) throws SQLException {
            Server s = new Server();
            try (PreparedStatement ps = c.prepareStatement("SELECT current_setting('server_version'), current_database(),"
                    + " current_user, current_setting('wal_level'), current_setting('max_replication_slots')::int,"
                    + " current_setting('max_wal_senders')::int, r.rolreplication, r.rolsuper,"
                    + " has_database_privilege(current_database(), 'CREATE'),"
                    + " (SELECT count(*) FROM pg_replication_slots)::int, (SELECT count(*) FROM pg_stat_replication)::int"
                    + " FROM pg_roles r WHERE r.rolname = current_user");
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                s.version = rs.getString(1);
                s.database = rs.getString(2);
                s.role = rs.getString(3);
                s.walLevel = rs.getString(4);
                s.maxSlots = rs.getInt(5);
                s.maxSenders = rs.getInt(6);
                s.replication = rs.getBoolean(7);
                s.superuser = rs.getBoolean(8);
                s.mayCreate = rs.getBoolean(9);
                s.slotsUsed = rs.getInt(10);
                s.sendersUsed = rs.getInt(11);
            }
            return s;
        }
    }
}

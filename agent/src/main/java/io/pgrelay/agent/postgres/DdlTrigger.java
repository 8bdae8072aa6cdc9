package io.pgrelay.agent.postgres;

import io.pgrelay.agent.core.TableId;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * The event trigger of {@code init --ddl}: at the end of every DDL command it writes a transactional
 * logical decoding message, prefix {@code pgrelay.ddl}, holding the statement, so the DDL reaches the
 * slot in order with the rows around it. One trigger per cluster (named after its slot); the
 * message names the cluster, and an agent forwards only its own cluster's.
 *
 * <p>The function is {@code SECURITY DEFINER} (owned by the superuser who ran {@code init --ddl}):
 * {@code pg_logical_emit_message} is not granted to ordinary roles, and a DDL statement of any
 * role must not fail because of pgrelay.
 */
public final class DdlTrigger {

    /** The logical decoding message prefix; the agent looks for it. */
    public static final String PREFIX = "pgrelay.ddl";
    private static final int MAX_IDENTIFIER_BYTES = 63;

    private final String cluster;
    private final String name;

    public DdlTrigger(String cluster, String slot) {
        this.cluster = cluster;
        this.name = triggerName(slot);
    }

    /** {@code <slot>_ddl}, the slot name cut so that the whole fits PostgreSQL's 63 bytes. */
    static String triggerName(String slot) {
        String base = slot;
        while ((base + "_ddl").getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_IDENTIFIER_BYTES) {
            base = base.substring(0, base.length() - 1);
        }
        return base + "_ddl";
    }

    public String name() {
        return name;
    }

    /** The function's name as SQL: {@code pgrelay."<name>"}. */
    String function() {
        return "pgrelay." + TableId.quoteIdent(name);
    }

    /** A role that may not create event triggers. */
    public static final class NotSuperuserException extends Exception {
        NotSuperuserException(String message) {
            super(message);
        }
    }

    /**
     * Creates (or updates) the function and creates the event trigger unless it exists.
     *
     * @return what was done, one line each
     * @throws NotSuperuserException when the connected role is not a superuser: PostgreSQL lets only superusers create event triggers
     */
    public List<String> ensure(Connection c) throws SQLException, NotSuperuserException {
        String user;
        boolean superuser;
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")) {
            rs.next();
            user = rs.getString(1);
            superuser = rs.getBoolean(2);
        }
        if (!superuser) {
            throw new NotSuperuserException("init --ddl: PostgreSQL lets only superusers create event triggers, and user " + user
                    + " is not one; run init --ddl once as a superuser (the agents need no more privileges than before),"
                    + " or leave out --ddl");
        }
        List<String> done = new ArrayList<>();
        boolean existed = exists(c);
        try (Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA IF NOT EXISTS pgrelay");
            s.execute(functionSql());
            s.execute("REVOKE ALL ON FUNCTION " + function() + "() FROM PUBLIC");
            if (!existed) {
                s.execute("CREATE EVENT TRIGGER " + TableId.quoteIdent(name) + " ON ddl_command_end EXECUTE FUNCTION "
                        + function() + "()");
            }
        }
        done.add(existed
                ? "event trigger " + name + " was in place; its function " + function() + " is up to date"
                : "created event trigger " + name + " (ddl_command_end → " + function()
                + "): DDL statements now reach the slot as '" + PREFIX + "' messages");
        return done;
    }

    /** Drops the event trigger and its function when present; says nothing when absent. */
    public List<String> drop(Connection c) throws SQLException {
        if (!exists(c)) {
            return List.of(); // nothing to say: most clusters never ran init --ddl
        }
        try (Statement s = c.createStatement()) {
            s.execute("DROP EVENT TRIGGER IF EXISTS " + TableId.quoteIdent(name));
            s.execute("DROP FUNCTION IF EXISTS " + function() + "()");
        }
        return List.of("dropped event trigger " + name + " and its function " + function());
    }

    public boolean exists(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_event_trigger WHERE evtname = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /**
     * {@code current_query()} is the statement as the client sent it (all of it, when the client sent
     * several statements in one string); {@code session_user} is who ran it (inside a SECURITY
     * DEFINER function {@code current_user} is the function's owner).
     */
    String functionSql() {
        return "CREATE OR REPLACE FUNCTION " + function() + "() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER"
                + " SET search_path = pg_catalog, pg_temp AS $pgrelay$\n"
                + "BEGIN\n"
                + "  PERFORM pg_logical_emit_message(true, " + literal(PREFIX) + ", json_build_object(\n"
                + "    'cluster', " + literal(cluster) + ",\n"
                + "    'tag', tg_tag,\n"
                + "    'ddl', current_query(),\n"
                + "    'user', session_user,\n"
                + "    'objects', coalesce((SELECT json_agg(json_build_object('type', object_type, 'identity', object_identity,"
                + " 'schema', schema_name)) FROM pg_event_trigger_ddl_commands()), '[]'::json))::text);\n"
                + "END\n"
                + "$pgrelay$";
    }

    private static String literal(String s) {
        return "'" + s.replace("'", "''") + "'";
    }
}

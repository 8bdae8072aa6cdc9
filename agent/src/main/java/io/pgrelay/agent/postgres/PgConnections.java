package io.pgrelay.agent.postgres;

import io.pgrelay.common.tls.PemSslFactory;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.pgrelay.agent.config.PgRelayConfig;
import io.pgrelay.agent.config.PostgresConfig;
import io.pgrelay.agent.config.PostgresTls;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.postgresql.Driver;
import org.postgresql.PGProperty;

/**
 * Opens the agent's connections to PostgreSQL: plain ones for administration and a replication
 * one for the WAL reader. Every connection renders values the same way ({@code TimeZone=UTC},
 * {@code DateStyle=ISO}, {@code IntervalStyle=postgres}, {@code bytea_output=hex}), because
 * pgoutput sends some types in the walsender session's text form and events must not depend on
 * the server's or the JVM's settings.
 */
public final class PgConnections {

    /**
     * Applied with SET after login. pgjdbc sends the JVM's own time zone as a TimeZone startup
     * parameter, which PostgreSQL applies after the {@code options} parameter, so {@code -c
     * TimeZone=UTC} in options would lose; a SET wins (verified on a replication connection by
     * PgConnectionsTest).
     */
    static final List<String> SESSION_SETTINGS = List.of(
            "SET TimeZone = 'UTC'", "SET DateStyle = 'ISO, YMD'", "SET IntervalStyle = 'postgres'", "SET bytea_output = 'hex'");

    private final PostgresConfig postgres;
    private final String agentId;
    /** Created on first use, closed by {@link #close()}; guarded by this. */
    private HikariDataSource pool;
    private boolean closed;

    public PgConnections(PostgresConfig postgres, String agentId) {
        this.postgres = postgres;
        this.agentId = agentId;
    }

    public static PgConnections of(PgRelayConfig config) {
        return new PgConnections(config.postgres(), config.agent().id());
    }

    /** A plain connection, autocommit on. */
    public Connection open() throws PgConnectException {
        return connect(properties(false));
    }

    /**
     * A plain connection from the agent's small pool, for short work: the election's looks at the
     * slot, epochs, key and type lookups. Closing it returns it. A takeover then does not wait for
     * a login (one to tens of milliseconds), and a leader does not log in twice a second to check
     * its slot. Long-lived connections ({@code LISTEN}, snapshots, replication) are opened apart.
     */
    public Connection borrow() throws SQLException {
        try {
            return pool().getConnection();
        } catch (SQLTransientConnectionException e) {
            // Hikari says only that it timed out; the driver's reason is the cause
            if (e.getCause() instanceof SQLException cause) {
                throw new SQLException(describe(cause), cause.getSQLState(), e);
            }
            throw new SQLException("postgres: no connection to " + postgres.maskedUrl() + " within "
                    + postgres.connectTimeout().toMillis() + " ms", "08001", e);
        }
    }

    private synchronized HikariDataSource pool() throws SQLException {
        if (closed) {
            throw new SQLException("postgres: the agent is shutting down", "08003");
        }
        if (pool == null) {
            HikariConfig c = new HikariConfig();
            c.setPoolName("pgrelay-pg");
            c.setJdbcUrl(postgres.url());
            Properties props = properties(false);
            // Short work only: a query that hears nothing for connectTimeout fails, so a silent
            // network (no reset, as a partition looks) cannot hold the election or the ticker forever.
            PGProperty.SOCKET_TIMEOUT.set(props, socketTimeoutSeconds());
            c.setDataSourceProperties(props);
            c.setConnectionInitSql(String.join("; ", SESSION_SETTINGS));
            c.setMinimumIdle(1);
            c.setMaximumPoolSize(6);
            c.setConnectionTimeout(Math.max(250, postgres.connectTimeout().toMillis()));
            c.setInitializationFailTimeout(-1);   // start without PostgreSQL; callers see the reason on use
            pool = new HikariDataSource(c);
        }
        return pool;
    }

    /** Closes the pool; connections opened apart are their users' to close. */
    public synchronized void close() {
        closed = true;
        if (pool != null) {
            pool.close();
        }
    }

    /**
     * A plain connection whose results all come as text ({@code binaryTransfer=false}): a snapshot
     * reads rows with {@code getString}, which then gives exactly the text output that pgoutput
     * sends for the same value, so snapshot rows and stream rows encode alike.
     */
    public Connection openTextResults() throws PgConnectException {
        Properties p = properties(false);
        PGProperty.BINARY_TRANSFER.set(p, false);
        return connect(p);
    }

    /**
     * A logical replication connection ({@code replication=database}, simple query protocol); unwrap
     * it to {@link org.postgresql.PGConnection} for {@code getReplicationAPI()}.
     */
    public Connection openReplication() throws PgConnectException {
        return connect(properties(true));
    }

    /**
     * The servers {@code postgres.url} names, as {@code host:port} in its order: one, or several
     * for a URL that follows a promotion ({@code jdbc:postgresql://a:5432,b:5432/app?targetServerType=primary}).
     */
    public List<String> hosts() {
        Properties parsed = Driver.parseURL(postgres.url(), new Properties());
        if (parsed == null) {
            return List.of();
        }
        String[] hosts = PGProperty.PG_HOST.getOrDefault(parsed).split(",");
        String[] ports = PGProperty.PG_PORT.getOrDefault(parsed).split(",");
        List<String> out = new ArrayList<>();
        for (int i = 0; i < hosts.length; i++) {
            out.add(hosts[i] + ":" + ports[Math.min(i, ports.length - 1)]);
        }
        return out;
    }

    /**
     * A plain connection to one of {@link #hosts()}, primary or standby alike, with the URL's other
     * parameters: to read what only a standby shows ({@code pg_replication_slots.synced}).
     */
    public Connection openHost(String hostPort) throws PgConnectException {
        Properties parsed = Driver.parseURL(postgres.url(), new Properties());
        if (parsed == null || !hosts().contains(hostPort)) {
            throw new PgConnectException("postgres: " + hostPort + " is not a host of " + postgres.maskedUrl(), "08001", null);
        }
        Properties p = new Properties();
        for (String name : parsed.stringPropertyNames()) {
            if (!name.equals(PGProperty.PG_HOST.getName()) && !name.equals(PGProperty.PG_PORT.getName())
                    && !name.equals(PGProperty.PG_DBNAME.getName()) && !name.equals(PGProperty.TARGET_SERVER_TYPE.getName())) {
                p.setProperty(name, parsed.getProperty(name));
            }
        }
        p.putAll(properties(false));
        String url = "jdbc:postgresql://" + hostPort + "/" + PGProperty.PG_DBNAME.getOrDefault(parsed);
        try {
            return DriverManager.getConnection(url, p);
        } catch (SQLException e) {
            throw new PgConnectException(describe(e), e.getSQLState(), e);
        }
    }

    /** The pool's socket timeout: {@code connectTimeout}, rounded up to whole seconds (pgjdbc's unit). */
    int socketTimeoutSeconds() {
        return (int) Math.max(1, (postgres.connectTimeout().toMillis() + 999) / 1000);
    }

    Properties properties(boolean replication) {
        Properties p = new Properties();
        PGProperty.USER.set(p, postgres.user());
        if (!postgres.password().isEmpty()) {
            PGProperty.PASSWORD.set(p, postgres.password().reveal());
        }
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(p, "10");
        PGProperty.APPLICATION_NAME.set(p, "pgrelay-" + agentId);
        int timeoutSeconds = (int) Math.max(1, (postgres.connectTimeout().toMillis() + 999) / 1000);
        PGProperty.CONNECT_TIMEOUT.set(p, timeoutSeconds);
        PGProperty.LOGIN_TIMEOUT.set(p, timeoutSeconds);
        PGProperty.TCP_KEEP_ALIVE.set(p, true);
        tls(p);
        if (replication) {
            PGProperty.REPLICATION.set(p, "database");
            PGProperty.PREFER_QUERY_MODE.set(p, "simple");
        }
        return p;
    }

    /**
     * {@code postgres.tls} as pgjdbc settings, on every connection (plain, pooled, replication, to
     * one host). Not set: nothing here, and pgjdbc's own default ({@code prefer}) or the URL's applies.
     */
    private void tls(Properties p) {
        PostgresTls tls = postgres.tls();
        if (!tls.configured()) {
            return;
        }
        PGProperty.SSL_MODE.set(p, tls.mode().text());
        if (tls.mode() == PostgresTls.Mode.DISABLE) {
            return;
        }
        PGProperty.SSL_FACTORY.set(p, PemSslFactory.class.getName());
        if (tls.ca() != null) {
            PGProperty.SSL_ROOT_CERT.set(p, tls.ca().toString());
        }
        if (tls.cert() != null) {
            PGProperty.SSL_CERT.set(p, tls.cert().toString());
            PGProperty.SSL_KEY.set(p, tls.key().toString());
        }
    }

    /**
     * A sentence for {@code check} and the start-up log when TLS was left to chance: no
     * {@code postgres.tls} and no {@code sslmode=verify-…} in the URL. A mode chosen in
     * {@code postgres.tls}, even {@code disable}, is the operator's decision: null.
     */
    public String unverifiedServerWarning() {
        if (postgres.tls().configured()) {
            return null;
        }
        Properties parsed = Driver.parseURL(postgres.url(), new Properties());
        String urlMode = parsed == null ? null : parsed.getProperty(PGProperty.SSL_MODE.getName());
        if (urlMode != null && urlMode.startsWith("verify-")) {
            return null;
        }
        return "postgres.tls is not set, so pgjdbc's sslmode "
                + (urlMode == null ? "(prefer) applies: TLS only if the server offers it, and" : urlMode + " applies:")
                + " the server's certificate is not checked; set postgres.tls.mode: verify-full and postgres.tls.ca";
    }

    private Connection connect(Properties properties) throws PgConnectException {
        Connection c;
        try {
            c = DriverManager.getConnection(postgres.url(), properties);
        } catch (SQLException e) {
            throw new PgConnectException(describe(e), e.getSQLState(), e);
        }
        try (Statement s = c.createStatement()) {
            s.execute(String.join("; ", SESSION_SETTINGS));   // one round trip
            return c;
        } catch (SQLException e) {
            closeQuietly(c);
            throw new PgConnectException("postgres: connected to " + postgres.maskedUrl() + " but could not set up the session: "
                    + scrub(firstLine(e.getMessage())), e.getSQLState(), e);
        }
    }

    /** One line: where, as whom, and why not — with the password scrubbed from whatever the driver said. */
    String describe(SQLException e) {
        StringBuilder why = new StringBuilder(firstLine(e.getMessage()));
        Throwable cause = e.getCause();
        if (cause != null && cause.getMessage() != null && !why.toString().contains(cause.getMessage())) {
            why.append(" (").append(cause.getClass().getSimpleName()).append(": ").append(firstLine(cause.getMessage())).append(')');
        }
        return "postgres: cannot connect to " + postgres.maskedUrl() + " as " + postgres.user() + ": " + scrub(why.toString());
    }

    private String scrub(String text) {
        String secret = postgres.password().reveal();
        return secret.isEmpty() ? text : text.replace(secret, "****");
    }

    private static String firstLine(String text) {
        if (text == null) {
            return "no reason given";
        }
        int nl = text.indexOf('\n');
        return (nl < 0 ? text : text.substring(0, nl)).strip();
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // the session is being given up anyway
        }
    }
}

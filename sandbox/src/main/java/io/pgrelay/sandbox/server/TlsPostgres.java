package io.pgrelay.sandbox.server;

import io.pgrelay.common.tls.TestCa;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/**
 * A PostgreSQL server configured as a security team would: {@code ssl = on} with a certificate from
 * a test CA ({@link TestCa}, made now), and a {@code pg_hba.conf} that lets in TLS connections only
 * ({@code hostssl}), with SCRAM passwords — and a client certificate for the one role
 * {@link #CERT_ROLE}. Started apart from the sandbox's shared server, whose settings it leaves alone.
 *
 * <p>Roles: {@link #SCRAM_ROLE} (password {@link #SCRAM_PASSWORD}, stored as SCRAM) and
 * {@link #CERT_ROLE} (no password: its certificate), both {@code SUPERUSER REPLICATION} as in the
 * other ITs (least privilege is shown elsewhere). The superuser {@code postgres} gets a SCRAM
 * password too, for the test's own statements ({@link #execute}).
 */
public final class TlsPostgres implements AutoCloseable {

    public static final String SCRAM_ROLE = "pgrelay_scram";
    public static final String SCRAM_PASSWORD = "scram-Pa55-for-tests";
    public static final String CERT_ROLE = "pgrelay_cert";
    private static final String SUPERUSER_PASSWORD = "superuser-Pa55-for-tests";

    /** The pg_hba.conf that docs/security.md shows: TLS only, SCRAM passwords, one role by certificate. */
    public static final String HBA = String.join("\n",
            "# TYPE  DATABASE     USER           ADDRESS        METHOD",
            "hostssl all          " + CERT_ROLE + "   127.0.0.1/32   cert",
            "hostssl replication  " + CERT_ROLE + "   127.0.0.1/32   cert",
            "hostssl all          all            127.0.0.1/32   scram-sha-256",
            "hostssl replication  all            127.0.0.1/32   scram-sha-256",
            "");

    private final Postgres server;
    private final TestCa ca;
    private final TestCa.Issued serverCert;

    private TlsPostgres(Postgres server, TestCa ca, TestCa.Issued serverCert) {
        this.server = server;
        this.ca = ca;
        this.serverCert = serverCert;
    }

    /**
     * Starts the server. It starts with a pg_hba.conf of {@code trust} lines (zonky's start-up check
     * logs in without a password), creates the roles, then swaps in {@link #HBA} and reloads, and
     * returns once a connection without TLS is refused.
     */
    public static TlsPostgres start() throws IOException {
        TestCa ca = TestCa.create("pgrelay-test-postgres-ca");
        Postgres server = null;
        try {
            TestCa.Issued cert = ca.server("postgres-server", "localhost", "localhost", "127.0.0.1");
            Path hba = ca.directory().resolve("pg_hba.conf");
            Files.writeString(hba, "host all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n");
            server = Postgres.start("ssl", "on", "ssl_cert_file", cert.cert().toString(), "ssl_key_file", cert.key().toString(),
                    "ssl_ca_file", ca.certificate().toString(), "hba_file", hba.toString(), "password_encryption", "scram-sha-256");
            server.execute("CREATE ROLE " + SCRAM_ROLE + " LOGIN SUPERUSER REPLICATION PASSWORD '" + SCRAM_PASSWORD + "'",
                    "CREATE ROLE " + CERT_ROLE + " LOGIN SUPERUSER REPLICATION",
                    "ALTER ROLE postgres PASSWORD '" + SUPERUSER_PASSWORD + "'");
            Files.writeString(hba, HBA);
            server.execute("SELECT pg_reload_conf()");
            TlsPostgres tls = new TlsPostgres(server, ca, cert);
            tls.awaitPlaintextRefused();
            return tls;
        } catch (IOException | RuntimeException e) {
            if (server != null) {
                server.close();
            }
            ca.close();
            throw e;
        }
    }

    private void awaitPlaintextRefused() throws IOException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (true) {
            Properties p = superuser();
            p.setProperty("sslmode", "disable");
            try (Connection c = DriverManager.getConnection(jdbcUrl(), p)) {
                if (System.nanoTime() > deadline) {
                    throw new IOException(jdbcUrl() + " still accepts connections without TLS after the pg_hba.conf reload");
                }
                Thread.sleep(50);
            } catch (SQLException refused) {
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }
    }

    public int port() {
        return server.port();
    }

    public String jdbcUrl() {
        return server.jdbcUrl();
    }

    /** The CA that signed the server's certificate (and the client certificates this server accepts). */
    public TestCa ca() {
        return ca;
    }

    /** A client certificate for {@link #CERT_ROLE}, signed by {@link #ca()}. */
    public TestCa.Issued certRoleCertificate() throws IOException {
        return ca.client("pgrelay-cert-client", CERT_ROLE);
    }

    /** A superuser connection over verified TLS with a SCRAM password. */
    public Connection connect() throws SQLException {
        return DriverManager.getConnection(jdbcUrl(), superuser());
    }

    private Properties superuser() {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("password", SUPERUSER_PASSWORD);
        p.setProperty("sslmode", "verify-full");
        p.setProperty("sslrootcert", ca.certificate().toString());
        return p;
    }

    /** Runs statements as the superuser, each in its own transaction. */
    public void execute(String... sql) {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            for (String statement : sql) {
                s.execute(statement);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("SQL failed: " + e.getMessage(), e);
        }
    }

    /** The server underneath (its settings must not be changed by the caller). */
    public Postgres server() {
        return server;
    }

    Path serverCertificate() {
        return serverCert.cert();
    }

    /**
     * Makes the server present a certificate from the same CA for {@code names} only (a name
     * mismatch for clients that reach it as 127.0.0.1 or localhost) until the returned handle is
     * closed, which puts the original certificate back. Both swaps take effect at a configuration
     * reload, for new connections.
     */
    public AutoCloseable presentCertificateFor(String... names) throws IOException {
        byte[] cert = Files.readAllBytes(serverCert.cert());
        byte[] key = Files.readAllBytes(serverCert.key());
        TestCa.Issued other = ca.server("postgres-other-name", names[0], names);
        Files.write(serverCert.cert(), Files.readAllBytes(other.cert()));
        Files.write(serverCert.key(), Files.readAllBytes(other.key()));
        execute("SELECT pg_reload_conf()");
        return () -> {
            Files.write(serverCert.cert(), cert);
            Files.write(serverCert.key(), key);
            Properties p = superuser();
            p.setProperty("sslmode", "verify-ca");
            try (Connection c = DriverManager.getConnection(jdbcUrl(), p); Statement s = c.createStatement()) {
                s.execute("SELECT pg_reload_conf()");
            }
        };
    }

    @Override
    public void close() throws IOException {
        try {
            server.close();
        } finally {
            ca.close();
        }
    }
}

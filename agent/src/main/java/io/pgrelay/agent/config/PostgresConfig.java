package io.pgrelay.agent.config;

import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import io.pgrelay.agent.core.TableId;
import java.time.Duration;
import java.util.List;

/**
 * The {@code postgres} section.
 *
 * @param url            {@code jdbc:postgresql://host:port/database}
 * @param tables         the captured tables; empty means the publication is {@code FOR ALL TABLES}
 * @param statusInterval how often the WAL reader reports its flushed position to the server
 * @param connectTimeout how long connecting and logging in may take
 * @param tls            {@code postgres.tls}; {@link PostgresTls#NOT_SET} leaves TLS to the URL and pgjdbc
 */
public record PostgresConfig(@JsonSerialize(converter = Masking.JdbcUrlConverter.class) String url, String user,
                             Secret password, String slot, String publication,
                             List<TableId> tables, Duration statusInterval, Duration connectTimeout, PostgresTls tls) {

    public static final Duration DEFAULT_STATUS_INTERVAL = Duration.ofSeconds(1);
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);

    public PostgresConfig {
        tables = List.copyOf(tables);
    }

    public PostgresConfig(String url, String user, Secret password, String slot, String publication, List<TableId> tables,
                          Duration statusInterval, Duration connectTimeout) {
        this(url, user, password, slot, publication, tables, statusInterval, connectTimeout, PostgresTls.NOT_SET);
    }

    /** True when no tables are listed: the publication covers every table of the database. */
    public boolean allTables() {
        return tables.isEmpty();
    }

    /** The URL with any credentials in it masked, for logs and messages. */
    public String maskedUrl() {
        return Masking.jdbcUrl(url);
    }

    @Override
    public String toString() {
        return "PostgresConfig[url=" + maskedUrl() + ", user=" + user + ", password=" + password + ", slot=" + slot
                + ", publication=" + publication + ", tables=" + tables + ", statusInterval=" + statusInterval
                + ", connectTimeout=" + connectTimeout + ", tls=" + tls + "]";
    }
}

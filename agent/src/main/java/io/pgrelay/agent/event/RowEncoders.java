package io.pgrelay.agent.event;

import io.pgrelay.agent.config.FormatConfig;
import io.pgrelay.agent.config.PgRelayConfig;
import io.pgrelay.agent.registry.SchemaRegistryClient;

/**
 * Chooses the {@link RowEncoder} of {@code kafka.format} and {@code kafka.serialization}, once per
 * pipeline: pgrelay's event, Debezium's envelope as JSON (with or without Connect schemas), or
 * Debezium's envelope as Avro through a schema registry.
 */
public final class RowEncoders {

    private RowEncoders() {
    }

    public static RowEncoder of(PgRelayConfig config, TypeCatalog types) {
        return of(config, types, registrar(config));
    }

    /**
     * What registers the avro serialization's schemas, to share across pipelines so that its id
     * cache outlives a pipeline's restart; null unless {@code serialization: avro}.
     */
    public static AvroEncoder.Registrar registrar(PgRelayConfig config) {
        FormatConfig formats = config.kafka().formats();
        return formats.serialization() == FormatConfig.Serialization.AVRO
                ? new SchemaRegistryClient(formats.schemaRegistry())::register : null;
    }

    /** @param registrar {@link #registrar}'s, for {@code serialization: avro} */
    public static RowEncoder of(PgRelayConfig config, TypeCatalog types, AvroEncoder.Registrar registrar) {
        FormatConfig formats = config.kafka().formats();
        return switch (formats.format()) {
            case PGRELAY -> new EventEncoder(config.cluster(), types);
            case DEBEZIUM -> {
                DebeziumEncoder debezium = new DebeziumEncoder(formats.debezium(),
                        formats.serialization() == FormatConfig.Serialization.JSON_SCHEMA, config.kafka().topicPrefix(),
                        databaseOf(config.postgres().url()), config.kafka().topicNames()::topicFor, types);
                yield formats.serialization() == FormatConfig.Serialization.AVRO
                        ? new AvroEncoder(debezium, registrar, config.kafka().topicNames()::topicFor)
                        : debezium;
            }
        };
    }

    /** The database a JDBC URL names: {@code jdbc:postgresql://a:5432,b:5432/app?x=y} → {@code app}. */
    static String databaseOf(String jdbcUrl) {
        String rest = jdbcUrl.startsWith("jdbc:postgresql://") ? jdbcUrl.substring("jdbc:postgresql://".length())
                : jdbcUrl.substring(jdbcUrl.indexOf(':', 5) + 1);
        int slash = rest.indexOf('/');
        if (slash < 0) {
            return "";
        }
        String db = rest.substring(slash + 1);
        int query = db.indexOf('?');
        return java.net.URLDecoder.decode(query < 0 ? db : db.substring(0, query), java.nio.charset.StandardCharsets.UTF_8);
    }
}

package io.pgrelay.agent.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * How row events are written to Kafka: {@code kafka.format}, {@code kafka.serialization} and the
 * {@code kafka.debezium} section (docs/formats.md).
 *
 * @param format         the envelope: pgrelay's own event or Debezium's
 * @param serialization  the bytes: plain JSON, Kafka Connect's {@code {schema, payload}} JSON, or Avro
 * @param debezium       the Debezium connector settings this build follows, used by {@code format: debezium}
 * @param schemaRegistry {@code kafka.schemaRegistry}, used by {@code serialization: avro}
 */
public record FormatConfig(Format format, Serialization serialization, Debezium debezium, SchemaRegistry schemaRegistry) {

    public static final FormatConfig DEFAULT = new FormatConfig(Format.PGRELAY, Serialization.JSON, Debezium.DEFAULT,
            SchemaRegistry.NONE);

    public enum Format {
        /** the event in DESIGN.md, "Kafka records" */
        PGRELAY,
        /** the envelope of Debezium's PostgreSQL connector */
        DEBEZIUM;

        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public enum Serialization {
        /** what Kafka Connect's JsonConverter writes with {@code schemas.enable=false} */
        JSON,
        /** what Kafka Connect's JsonConverter writes with {@code schemas.enable=true}: {@code {schema, payload}} */
        JSON_SCHEMA,
        /** Avro in the Confluent wire format (magic byte, schema id) through a schema registry */
        AVRO;

        public String configName() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /** Debezium's {@code decimal.handling.mode}: how numeric (and money) columns are written. */
    public enum DecimalMode { PRECISE, DOUBLE, STRING }

    /** Debezium's {@code time.precision.mode}: adaptive (Debezium's default) or Kafka Connect's logical types. */
    public enum TimePrecisionMode { ADAPTIVE, CONNECT }

    /** Debezium's {@code binary.handling.mode}: bytea as Connect bytes, or a base64 or hex string. */
    public enum BinaryMode { BYTES, BASE64, HEX }

    /**
     * The {@code kafka.debezium} section, in Debezium's own words.
     *
     * @param decimalHandlingMode         {@code decimal.handling.mode}
     * @param timePrecisionMode           {@code time.precision.mode}
     * @param binaryHandlingMode          {@code binary.handling.mode}
     * @param unavailableValuePlaceholder {@code unavailable.value.placeholder}: written for an unchanged TOAST column
     * @param truncates                   false = Debezium's default {@code skipped.operations=t}: truncates are not written
     * @param sourceVersion               {@code source.version}; says which Debezium release the envelope follows
     */
    public record Debezium(DecimalMode decimalHandlingMode, TimePrecisionMode timePrecisionMode,
                           BinaryMode binaryHandlingMode, String unavailableValuePlaceholder, boolean truncates,
                           String sourceVersion) {

        /** Debezium's default placeholder for a value PostgreSQL did not send (unchanged TOAST). */
        public static final String DEFAULT_PLACEHOLDER = "__debezium_unavailable_value";
        /** The Debezium release whose PostgreSQL connector output this format was checked against. */
        public static final String DEFAULT_SOURCE_VERSION = "3.6.1.Final";

        public static final Debezium DEFAULT = new Debezium(DecimalMode.PRECISE, TimePrecisionMode.ADAPTIVE,
                BinaryMode.BYTES, DEFAULT_PLACEHOLDER, false, DEFAULT_SOURCE_VERSION);
    }

    /**
     * The {@code kafka.schemaRegistry} section: a registry that speaks Confluent's REST API.
     *
     * @param url      the API's base URL ({@code http://registry:8081}, or Apicurio's {@code …/apis/ccompat/v7}); null when absent
     * @param username HTTP basic auth user, or null for none
     * @param password HTTP basic auth password: a secret, never logged
     * @param retryTimeout how long a registry that cannot be reached (or answers 5xx) is retried
     *                 before the leader stops with an error ({@code kafka.schemaRegistry.retryTimeout})
     * @param tls      {@code kafka.schemaRegistry.tls}, for an {@code https://} URL
     */
    public record SchemaRegistry(String url, String username, Secret password, Duration retryTimeout, Tls tls) {

        public SchemaRegistry(String url, String username, Secret password, Duration retryTimeout) {
            this(url, username, password, retryTimeout, Tls.NONE);
        }

        /**
         * How an {@code https://} registry is trusted: {@code ca} (PEM) signed its certificate, or
         * with {@code ca} null the JVM's trust store (public CAs); {@code cert} and {@code key} (PEM),
         * both or neither, are the agent's client certificate for a registry that asks for one. The
         * host name is always checked against the certificate.
         */
        public record Tls(Path ca, Path cert, Path key) {
            public static final Tls NONE = new Tls(null, null, null);

            public boolean isSet() {
                return ca != null || cert != null;
            }
        }

        /**
         * Two minutes: the producer's default {@code delivery.timeout.ms}, the time a record is given
         * to reach Kafka, so a row waits as long for the registry as for the broker.
         */
        public static final Duration DEFAULT_RETRY_TIMEOUT = Duration.ofMinutes(2);
        public static final SchemaRegistry NONE = new SchemaRegistry(null, null, Secret.EMPTY, DEFAULT_RETRY_TIMEOUT);
    }
}

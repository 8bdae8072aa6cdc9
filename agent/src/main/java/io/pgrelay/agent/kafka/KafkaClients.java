package io.pgrelay.agent.kafka;

import io.pgrelay.agent.config.KafkaConfig;
import org.apache.kafka.clients.admin.AdminClientConfig;

import java.util.HashMap;
import java.util.Map;

/** Settings every Kafka client of an agent shares: the producer, the checkpoint and schema readers, the admin clients. */
public final class KafkaClients {

    private KafkaClients() {
    }

    /**
     * The bootstrap servers, {@code kafka.security} (TLS, SASL), and whichever of the user's producer
     * settings are client-wide (timeouts, DNS; security ones when {@code kafka.security} is unset), so
     * that every client connects the way the producer does. Holds credentials: never log it.
     */
    public static Map<String, Object> config(KafkaConfig kafka, String clientId) {
        Map<String, Object> props = new HashMap<>();
        for (Map.Entry<String, String> e : kafka.producer().entrySet()) {
            if (AdminClientConfig.configNames().contains(e.getKey())) {
                props.put(e.getKey(), e.getValue());
            }
        }
        props.putAll(kafka.security().clientSettings()); // the config refuses producer settings that would clash
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, clientId);
        return props;
    }
}

package io.pgrelay.agent.kafka;

import org.apache.kafka.clients.admin.AdminClientConfig;

import java.util.HashMap;
import java.util.Map;

/** Settings every Kafka client of an agent shares. */
public final class KafkaClients {

    private KafkaClients() {
    }

    /**
     * The bootstrap servers and whichever of the user's producer settings are client-wide (security,
     * SASL, SSL, timeouts), so the admin client and the checkpoint reader connect the way the
     * producer does.
     */
    public static Map<String, Object> config(String bootstrapServers, Map<String, String> producer, String agentId) {
        Map<String, Object> props = new HashMap<>();
        for (Map.Entry<String, String> e : producer.entrySet()) {
            if (AdminClientConfig.configNames().contains(e.getKey())) {
                props.put(e.getKey(), e.getValue());
            }
        }
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "pgrelay-" + agentId);
        return props;
    }
}

package io.pgrelay.agent.config;

/**
 * The whole configuration, as read from the YAML file by {@link ConfigLoader}: defaults applied,
 * validated once. Immutable; {@link #toString} and {@link #describeMasked} never show a secret.
 *
 * @param cluster names the lock, the Kafka {@code transactional.id} and the checkpoints topic
 */
public record PgRelayConfig(String cluster, AgentConfig agent, PostgresConfig postgres, KafkaConfig kafka,
                            CoordinationConfig coordination, HeartbeatConfig heartbeat, AlertsConfig alerts,
                            SnapshotConfig snapshot) {

    /** The Kafka {@code transactional.id} every leader of this cluster uses, so a new one fences the old. */
    public String transactionalId() {
        return "pgrelay-" + cluster;
    }

    /**
     * The effective configuration as YAML, every default filled in, for the log at start: secrets,
     * credentials in the JDBC URL and password-like producer settings show as {@code ****}.
     */
    public String describeMasked() {
        return EffectiveConfig.render(this);
    }

    /** {@link #describeMasked} on one line (JSON, which YAML also reads), for a log line. */
    public String describeMaskedOneLine() {
        return EffectiveConfig.renderOneLine(this);
    }
}

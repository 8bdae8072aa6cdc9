package io.pgrelay.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code coordination.zookeeper.auth}. */
class ZooKeeperAuthConfigTest {

    private static String config(String auth) {
        return "cluster: demo\nagent: { id: a1 }\n"
                + "postgres: { url: 'jdbc:postgresql://db:5432/app', user: replicator, tls: { mode: disable } }\n"
                + "kafka: { bootstrapServers: 'k1:9092' }\n"
                + "coordination: { mode: zookeeper, zookeeper: { connect: 'zk:2181'" + auth + " } }\n";
    }

    private static PgRelayConfig parse(String yaml) {
        return new ConfigLoader(Map.<String, String>of()::get, () -> "host-1").parse(yaml, "config.yaml");
    }

    @Test
    void authIsReadAndThePasswordIsMasked() {
        PgRelayConfig c = parse(config(", auth: { username: pgrelay, password: 'zk-s3cret' }"));
        assertThat(c.coordination().zookeeper().username()).isEqualTo("pgrelay");
        assertThat(c.coordination().zookeeper().password().reveal()).isEqualTo("zk-s3cret");
        assertThat(c.describeMaskedOneLine()).contains("\"auth\":{\"username\":\"pgrelay\",\"password\":\"****\"}")
                .doesNotContain("zk-s3cret");
        assertThat(c.toString()).doesNotContain("zk-s3cret");
    }

    @Test
    void withoutAuthNothingAuthenticates() {
        assertThat(parse(config("")).coordination().zookeeper().authenticates()).isFalse();
    }

    @Test
    void aMissingUsernameOrPasswordIsAProblem() {
        assertThat(catchThrowableOfType(ConfigException.class, () -> parse(config(", auth: { user: x }"))).problems()
                .stream().map(Problem::toString)).containsExactly(
                "coordination.zookeeper.auth.username: required",
                "coordination.zookeeper.auth.password: required: the SASL (DIGEST-MD5) password of the user",
                "coordination.zookeeper.auth.user: unknown key");
    }
}

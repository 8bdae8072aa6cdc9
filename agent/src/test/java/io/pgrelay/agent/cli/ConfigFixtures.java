package io.pgrelay.agent.cli;

final class ConfigFixtures {

    static final String MINIMAL = """
            cluster: demo
            postgres: { url: 'jdbc:postgresql://db:5432/app', user: replicator, connectTimeout: 2s }
            kafka: { bootstrapServers: 'k1:9092' }
            """;

    private ConfigFixtures() {
    }
}

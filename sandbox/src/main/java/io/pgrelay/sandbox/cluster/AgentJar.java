package io.pgrelay.sandbox.cluster;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the agent's runnable jar: {@code -Dpgrelay.agentJar}, else {@code agent/target/pgrelay-agent.jar} above the working folder. */
public final class AgentJar {

    private AgentJar() {
    }

    public static Path path() {
        String configured = System.getProperty("pgrelay.agentJar");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured).toAbsolutePath();
        }
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null) {
            Path jar = dir.resolve("agent/target/pgrelay-agent.jar");
            if (Files.isRegularFile(jar)) {
                return jar;
            }
            dir = dir.getParent();
        }
        throw new IllegalStateException("agent/target/pgrelay-agent.jar not found; build it with ./mvnw -pl agent -am package");
    }
}

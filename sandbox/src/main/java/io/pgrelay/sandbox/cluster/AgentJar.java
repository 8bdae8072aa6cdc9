package io.pgrelay.sandbox.cluster;

import io.pgrelay.sandbox.server.BuildOutput;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the agent's runnable jar: {@code -Dpgrelay.agentJar}, else {@code agent/target/pgrelay-agent.jar} above the working folder. */
public final class AgentJar {

    private AgentJar() {
    }

    public static Path path() {
        return BuildOutput.find("pgrelay.agentJar", "agent/target/pgrelay-agent.jar", Files::isRegularFile,
                "agent/target/pgrelay-agent.jar not found; build it with ./mvnw -pl agent -am package");
    }
}

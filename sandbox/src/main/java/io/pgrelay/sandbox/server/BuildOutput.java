package io.pgrelay.sandbox.server;

import java.nio.file.Path;
import java.util.function.Predicate;

/** Where the build put what the sandbox runs as a child process: the agent's jar, the dashboard's, the registry's, the JDBC sink's libraries. */
public final class BuildOutput {

    private BuildOutput() {
    }

    /**
     * The path {@code -D<property>} names (the sandbox's Failsafe sets it), else {@code relativePath}
     * under the working folder or under the nearest folder above it where {@code exists} accepts it.
     *
     * @param notFound the message of the IllegalStateException thrown when it is nowhere: how to build it
     */
    public static Path find(String property, String relativePath, Predicate<Path> exists, String notFound) {
        String configured = System.getProperty(property);
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured).toAbsolutePath();
        }
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null) {
            Path built = dir.resolve(relativePath);
            if (exists.test(built)) {
                return built;
            }
            dir = dir.getParent();
        }
        throw new IllegalStateException(notFound);
    }
}

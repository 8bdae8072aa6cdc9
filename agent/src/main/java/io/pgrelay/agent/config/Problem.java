package io.pgrelay.agent.config;

/** One thing wrong with a configuration, at a key path such as {@code kafka.commitInterval}. */
public record Problem(String path, String message) {

    /** The line shown to the user: {@code postgres.url: required}. */
    @Override
    public String toString() {
        return path + ": " + message;
    }
}

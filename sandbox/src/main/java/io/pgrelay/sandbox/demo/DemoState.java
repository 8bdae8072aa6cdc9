package io.pgrelay.sandbox.demo;

import io.pgrelay.sandbox.server.Directories;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * What a running demo tells other tools on this machine (the failover drill): where its servers,
 * topic, table and agents are. Written to {@link #defaultPath()} while the demo runs, rewritten
 * when an agent is restarted, removed when the demo stops.
 */
public record DemoState(long demoPid, String cluster, String jdbcUrl, String user, String bootstrapServers,
                        String topic, String table, List<Agent> agents) {

    public record Agent(String id, String url, long pid) {
    }

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** {@code ${TMPDIR:-/tmp}/pgrelay-demo/state.json}. */
    public static Path defaultPath() {
        String tmp = System.getenv("TMPDIR");
        return Path.of(tmp == null || tmp.isBlank() ? "/tmp" : tmp, "pgrelay-demo", "state.json");
    }

    /** Writes the file whole (a reader never sees half of it). */
    public void write(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        Path next = file.resolveSibling(file.getFileName() + ".next");
        JSON.writeValue(next.toFile(), this);
        Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    public static DemoState read(Path file) throws IOException {
        return JSON.readValue(file.toFile(), DemoState.class);
    }

    /** Removes the file and its folder. */
    public static void remove(Path file) {
        Directories.deleteRecursively(file.getParent());
    }
}

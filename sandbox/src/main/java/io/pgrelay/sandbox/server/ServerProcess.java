package io.pgrelay.sandbox.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A server the sandbox runs as a child process ({@link ConnectWorker}, {@link SchemaRegistry},
 * {@link Prometheus}): started in its own temporary folder with its output in a log file there,
 * stopped with SIGTERM then SIGKILL, and the folder removed by {@link #close()}.
 */
final class ServerProcess implements AutoCloseable {

    private final Process process;
    private final Path dir;
    private final Path log;

    private ServerProcess(Process process, Path dir, Path log) {
        this.process = process;
        this.dir = dir;
        this.log = log;
    }

    /** Starts {@code command} in {@code dir}, its standard output and error going to {@code dir/logName}. */
    static ServerProcess start(List<String> command, Path dir, String logName) throws IOException {
        Path log = dir.resolve(logName);
        Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        return new ServerProcess(process, dir, log);
    }

    boolean isAlive() {
        return process.isAlive();
    }

    int exitValue() {
        return process.exitValue();
    }

    /** The log so far. */
    String log() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    /** SIGKILL: the server goes down at once, as a crashed one would. The folder stays until {@link #close()}. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    /** SIGTERM, up to 10 s for a clean stop, then SIGKILL; removes the folder. */
    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor();
            }
        }
        Directories.deleteRecursively(dir);
    }
}

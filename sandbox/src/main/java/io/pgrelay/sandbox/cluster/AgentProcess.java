package io.pgrelay.sandbox.cluster;

import io.pgrelay.sandbox.server.Directories;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A pgrelay agent running as a child process ({@code java -jar pgrelay-agent.jar run --config …}),
 * so that tests can kill it with real signals. Its output goes to a log file beside its config.
 */
public final class AgentProcess implements AutoCloseable {

    private final String id;
    private final Path dir;
    private final Path config;
    private final Path log;
    private final List<String> jvmArgs;
    private Process process;

    private AgentProcess(String id, Path dir, List<String> jvmArgs) {
        this.id = id;
        this.dir = dir;
        this.config = dir.resolve("pgrelay.yaml");
        this.log = dir.resolve("agent.log");
        this.jvmArgs = jvmArgs;
    }

    /** Writes the config and starts the agent with {@code run}. */
    public static AgentProcess start(String id, String configYaml, String... jvmArgs) throws IOException {
        Path dir = Files.createTempDirectory("pgrelay-agent-" + id + "-");
        AgentProcess agent = new AgentProcess(id, dir, List.of(jvmArgs));
        Files.writeString(agent.config, configYaml, StandardCharsets.UTF_8);
        agent.start();
        return agent;
    }

    /** Writes the config without starting anything: for {@link #runCommand} alone, or a later {@link #start()}. */
    public static AgentProcess prepare(String id, String configYaml, String... jvmArgs) throws IOException {
        Path dir = Files.createTempDirectory("pgrelay-agent-" + id + "-");
        AgentProcess agent = new AgentProcess(id, dir, List.of(jvmArgs));
        Files.writeString(agent.config, configYaml, StandardCharsets.UTF_8);
        return agent;
    }

    /** (Re)starts the process with the same config; the log is appended to. */
    public synchronized void start() throws IOException {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("agent " + id + " is already running as pid " + process.pid());
        }
        process = new ProcessBuilder(command("run", "--config", config.toString()))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
    }

    /** Runs a one-shot CLI command (init, check, teardown…) with this agent's config; returns its result. */
    public CommandResult runCommand(String command, long timeoutSeconds) throws IOException, InterruptedException {
        return runCommand(command, timeoutSeconds, new String[0]);
    }

    /** {@link #runCommand(String, long)} with options after the config, e.g. {@code init --ddl}. */
    public CommandResult runCommand(String command, long timeoutSeconds, String... options) throws IOException, InterruptedException {
        Path out = dir.resolve(command + ".out");
        List<String> args = new ArrayList<>(List.of(command, "--config", config.toString()));
        args.addAll(List.of(options));
        Process p = new ProcessBuilder(command(args.toArray(String[]::new)))
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new IllegalStateException(command + " did not finish within " + timeoutSeconds + " s");
        }
        return new CommandResult(p.exitValue(), Files.readString(out));
    }

    public record CommandResult(int exitCode, String output) {
    }

    private List<String> command(String... args) {
        List<String> cmd = new ArrayList<>();
        // -Dpgrelay.agentJava=/usr/lib/jvm/…/bin/java: the agents on another JDK than the harness (benchmarks)
        String java = System.getProperty("pgrelay.agentJava", "");
        cmd.add(!java.isBlank() ? java : ProcessHandle.current().info().command().orElse("java"));
        // -Dpgrelay.it.agentJvmArgs="…" (separated by spaces or ";"): flags for every agent of a test run,
        // before the launch's own, which win
        String shared = System.getProperty("pgrelay.it.agentJvmArgs", "").trim();
        if (!shared.isEmpty()) {
            cmd.addAll(List.of(shared.split("[\\s;]+")));
        }
        cmd.addAll(jvmArgs);
        cmd.add("-jar");
        cmd.add(AgentJar.path().toString());
        cmd.addAll(List.of(args));
        return cmd;
    }

    public String id() {
        return id;
    }

    public Path config() {
        return config;
    }

    public Path logFile() {
        return log;
    }

    public String log() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    public synchronized long pid() {
        return process.pid();
    }

    public synchronized boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** SIGKILL, and wait for the process to be gone. */
    public synchronized void kill() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly();
            process.waitFor();
        }
    }

    /** SIGTERM (graceful stop); waits up to the timeout, then SIGKILL. Returns the exit status. */
    public synchronized int stop(long timeoutSeconds) throws InterruptedException {
        if (process == null) {
            return -1;
        }
        process.destroy();
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor();
        }
        return process.exitValue();
    }

    /** SIGSTOP: the process hangs, holding its sockets. */
    public void pause() throws IOException, InterruptedException {
        signal("STOP");
    }

    /** SIGCONT after {@link #pause()}. */
    public void resume() throws IOException, InterruptedException {
        signal("CONT");
    }

    private void signal(String name) throws IOException, InterruptedException {
        int rc = new ProcessBuilder("kill", "-" + name, Long.toString(pid())).inheritIO().start().waitFor();
        if (rc != 0) {
            throw new IllegalStateException("kill -" + name + " " + pid() + " failed with " + rc);
        }
    }

    @Override
    public void close() throws Exception {
        if (process != null && process.isAlive()) {
            resume(); // a paused process ignores SIGTERM until continued
            stop(10);
        }
        Directories.deleteRecursively(dir);
    }
}

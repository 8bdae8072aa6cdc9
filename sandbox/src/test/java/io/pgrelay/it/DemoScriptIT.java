package io.pgrelay.it;

import io.pgrelay.sandbox.demo.DemoState;
import io.pgrelay.sandbox.server.TopicReader;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code scripts/demo} as a user runs it: it comes up, records flow, {@code scripts/failover-drill}
 * kills the leader three times and finds nothing missing or duplicated, and Ctrl-C leaves no
 * process and no temporary folder behind. The demo gets a temporary folder of its own (TMPDIR),
 * so that what it leaves behind is told apart from other tests' files.
 */
class DemoScriptIT {

    private static final Pattern VERDICT = Pattern.compile(
            "verdict: expected (\\d+), found (\\d+), missing (\\d+), duplicated (\\d+), out of order (\\d+)");

    @Test
    void demoRunsTheDrillCleanlyAndCtrlCLeavesNothingBehind() throws Exception {
        Path root = repositoryRoot();
        Path tmp = Files.createTempDirectory("demo-script-it-");
        Path demoOut = tmp.resolve("demo.out");
        Files.createDirectories(tmp.resolve("t"));
        Path demoTmp = tmp.resolve("t");
        // A shell that starts a job in the background ignores SIGINT for it (and Maven may have been
        // started so); a user's terminal does not. perl restores the default before exec'ing the script.
        ProcessBuilder pb = new ProcessBuilder("perl", "-e", "$SIG{INT} = 'DEFAULT'; exec @ARGV or die \"exec: $!\"",
                "bash", "scripts/demo", "--agents", "3")
                .directory(root.toFile()).redirectErrorStream(true).redirectOutput(demoOut.toFile());
        pb.environment().put("TMPDIR", demoTmp.toString());
        Process demo = pb.start();
        List<ProcessHandle> started = List.of();
        try {
            ItSupport.await("the demo's \"running\" line", Duration.ofSeconds(120),
                    () -> read(demoOut).contains("pgrelay demo is running") || !demo.isAlive());
            assertThat(demo.isAlive()).as(read(demoOut)).isTrue();
            Path stateFile = demoTmp.resolve("pgrelay-demo/state.json");
            assertThat(stateFile).exists();
            DemoState state = DemoState.read(stateFile);
            assertThat(state.agents()).hasSize(3);
            try (TopicReader reader = new TopicReader(state.bootstrapServers(), state.topic())) {
                assertThat(reader.readAtLeast(10, Duration.ofSeconds(30))).as("records in " + state.topic()).hasSizeGreaterThanOrEqualTo(10);
            }

            Path drillOut = tmp.resolve("drill.out");
            ProcessBuilder drillPb = new ProcessBuilder("bash", "scripts/failover-drill", "--kills", "3")
                    .directory(root.toFile()).redirectErrorStream(true).redirectOutput(drillOut.toFile());
            drillPb.environment().put("TMPDIR", demoTmp.toString());
            Process drill = drillPb.start();
            boolean finished = drill.waitFor(150, TimeUnit.SECONDS);
            if (!finished) {
                drill.destroyForcibly().waitFor();
            }
            String drillText = read(drillOut);
            System.out.println("DemoScriptIT: failover-drill said:\n" + drillText.lines()
                    .filter(l -> l.startsWith("kill ") || l.startsWith("takeover") || l.startsWith("verdict") || l.contains("failover-drill:"))
                    .reduce("", (a, b) -> a + "  " + b + "\n"));
            assertThat(finished).as("drill finished within 150 s:\n" + drillText).isTrue();
            assertThat(drillText.lines().filter(l -> l.startsWith("kill ")).count()).as(drillText).isEqualTo(3);
            Matcher v = VERDICT.matcher(drillText);
            assertThat(v.find()).as("a verdict line in:\n" + drillText).isTrue();
            assertThat(Long.parseLong(v.group(3))).as("missing: " + v.group()).isZero();
            assertThat(Long.parseLong(v.group(4))).as("duplicated: " + v.group()).isZero();
            assertThat(Long.parseLong(v.group(5))).as("out of order: " + v.group()).isZero();
            assertThat(Long.parseLong(v.group(2))).as(v.group()).isEqualTo(Long.parseLong(v.group(1))).isPositive();
            assertThat(drill.exitValue()).as(drillText).isZero();

            // Ctrl-C
            started = demo.descendants().toList();
            assertThat(started).as("the demo's agents and PostgreSQL run as its child processes").isNotEmpty();
            new ProcessBuilder("kill", "-INT", Long.toString(demo.pid())).inheritIO().start().waitFor();
            assertThat(demo.waitFor(60, TimeUnit.SECONDS)).as("the demo stops on Ctrl-C:\n" + tail(read(demoOut))).isTrue();
            for (ProcessHandle p : started) {
                ItSupport.await("pid " + p.pid() + " (" + p.info().commandLine().orElse("?") + ") gone", Duration.ofSeconds(10),
                        () -> !p.isAlive());
            }
            List<String> leftProcesses = ProcessHandle.allProcesses()
                    .filter(p -> p.info().commandLine().orElse("").contains(demoTmp.toString()))
                    .map(p -> p.pid() + " " + p.info().commandLine().orElse("")).toList();
            assertThat(leftProcesses).as("processes still running from the demo's folder").isEmpty();
            try (Stream<Path> left = Files.list(demoTmp)) {
                assertThat(left.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("pgrelay-")).toList())
                        .as("temporary folders left by the demo").isEmpty();
            }
        } finally {
            if (demo.isAlive()) {
                demo.descendants().forEach(ProcessHandle::destroyForcibly);
                demo.destroyForcibly().waitFor();
            }
            started.forEach(ProcessHandle::destroyForcibly);
            deleteRecursively(tmp);
        }
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "";
        }
    }

    private static String tail(String text) {
        List<String> lines = text.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    }

    private static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isRegularFile(dir.resolve("scripts/demo"))) {
            dir = dir.getParent();
        }
        assertThat(dir).as("scripts/demo above " + Path.of("").toAbsolutePath()).isNotNull();
        return dir;
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}

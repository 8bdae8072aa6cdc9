package io.pgrelay.sandbox.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Finds the process listening on a local TCP port, from Linux's {@code /proc}: how the failover
 * drill finds the leader's process from nothing but its HTTP address, so it works on a demo whose
 * agents were restarted as well as on agents it did not start.
 */
final class ListeningProcess {

    private static final String LISTEN = "0A";

    private ListeningProcess() {
    }

    static Optional<ProcessHandle> of(int port) throws IOException {
        Set<String> inodes = new HashSet<>();
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            Path path = Path.of(table);
            if (!Files.isReadable(path)) {
                continue;
            }
            List<String> lines = Files.readAllLines(path);
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.trim().split("\\s+");
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
                String local = f[1];
                int localPort = Integer.parseInt(local.substring(local.indexOf(':') + 1), 16);
                if (localPort == port && f[3].toUpperCase(Locale.ROOT).equals(LISTEN)) {
                    inodes.add("socket:[" + f[9] + "]");
                }
            }
        }
        if (inodes.isEmpty()) {
            return Optional.empty();
        }
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path proc : (Iterable<Path>) procs.filter(p -> p.getFileName().toString().matches("\\d+"))::iterator) {
                Path fds = proc.resolve("fd");
                try (Stream<Path> links = Files.list(fds)) {
                    boolean holds = links.anyMatch(l -> {
                        try {
                            return inodes.contains(Files.readSymbolicLink(l).toString());
                        } catch (IOException e) {
                            return false;
                        }
                    });
                    if (holds) {
                        return ProcessHandle.of(Long.parseLong(proc.getFileName().toString()));
                    }
                } catch (IOException | SecurityException e) {
                    // another user's process, or one that just ended
                }
            }
        }
        return Optional.empty();
    }
}

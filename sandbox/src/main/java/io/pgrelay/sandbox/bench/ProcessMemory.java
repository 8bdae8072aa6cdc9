package io.pgrelay.sandbox.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Peak resident set size of a process, from Linux's {@code /proc/<pid>/status}. */
final class ProcessMemory {

    private ProcessMemory() {
    }

    /** {@code VmHWM} in KiB, or -1 when the process is gone or the line is missing. */
    static long peakRssKib(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.substring(6).replace("kB", "").trim());
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}

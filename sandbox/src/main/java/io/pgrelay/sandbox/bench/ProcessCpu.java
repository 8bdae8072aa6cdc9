package io.pgrelay.sandbox.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time a process has used (user + system), from Linux's {@code /proc/<pid>/stat}, and the part
 * of it its JIT compiler threads used ({@code C1 CompilerThread…}, {@code C2 CompilerThread…}, from
 * each thread's {@code /proc/<pid>/task/<tid>/stat}): what a JVM spends compiling instead of working.
 *
 * @param seconds    the whole process's
 * @param jitSeconds its JIT compiler threads'; 0 for a process that is not a JVM
 */
record ProcessCpu(double seconds, double jitSeconds) {

    /** {@code /proc} counts in USER_HZ, which is 100 on every Linux the JDK supports. */
    private static final double TICKS_PER_SECOND = 100;

    /** Null when the process is gone. */
    static ProcessCpu of(long pid) {
        Path proc = Path.of("/proc", Long.toString(pid));
        try {
            double total = ticks(Files.readString(proc.resolve("stat")));
            double jit = 0;
            try (DirectoryStream<Path> tasks = Files.newDirectoryStream(proc.resolve("task"))) {
                for (Path task : tasks) {
                    try {
                        String stat = Files.readString(task.resolve("stat"));
                        String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                        if (name.startsWith("C1 CompilerThre") || name.startsWith("C2 CompilerThre")) {
                            jit += ticks(stat);
                        }
                    } catch (IOException e) {
                        // the thread ended meanwhile
                    }
                }
            }
            return new ProcessCpu(total / TICKS_PER_SECOND, jit / TICKS_PER_SECOND);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** utime + stime: fields 14 and 15, counted after the command name, which may hold spaces. */
    private static double ticks(String stat) {
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }
}

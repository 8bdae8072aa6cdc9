package io.pgrelay.it;

import io.pgrelay.agent.core.Lsn;
import io.pgrelay.agent.core.Position;
import io.pgrelay.agent.checkpoint.Checkpoint;
import io.pgrelay.agent.checkpoint.CheckpointReader;
import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The newest committed checkpoint is found from the topic's tail, past aborted transactions, against a real broker. */
@ExtendWith(SandboxExtension.class)
class CheckpointReaderIT {

    private final Sandbox sandbox = Sandbox.shared();

    @Test
    void newestCommittedCheckpointWinsOverLaterAbortedOnes() throws Exception {
        String cluster = ItSupport.uniqueCluster("ckpt");
        String topic = createTopic(cluster);
        Map<String, Object> client = client();
        assertThat(CheckpointReader.latest(client, topic, cluster, Duration.ofSeconds(30))).isEmpty();

        try (KafkaProducer<String, byte[]> producer = fence(cluster, null)) {
            for (int i = 1; i <= 300; i++) {
                write(producer, topic, cluster, i, true);
            }
            // More aborted transactions than the first tail window holds, all with higher positions.
            for (int i = 301; i <= 400; i++) {
                write(producer, topic, cluster, i, false);
            }
        }
        Optional<Checkpoint> latest = CheckpointReader.latest(client, topic, cluster, Duration.ofSeconds(30));
        assertThat(latest).map(Checkpoint::position).contains(new Position(Lsn.of(300L << 8), 300));
    }

    @Test
    void anEarlyReadStandsWhenNothingSettledSinceAndIsRedoneWhenSomethingDid() throws Exception {
        String cluster = ItSupport.uniqueCluster("early");
        String topic = createTopic(cluster);
        Map<String, Object> client = client();
        Duration timeout = Duration.ofSeconds(30);
        // As in a takeover: each "new leader" reads early, then fences (initTransactions settles the
        // producer producer's last transaction: commit markers written or the transaction aborted), then settles.
        try (CheckpointReader reader = new CheckpointReader(client, topic, cluster)) {
            KafkaProducer<String, byte[]> producer = fence(cluster, null);
            for (int i = 1; i <= 3; i++) {
                write(producer, topic, cluster, i, true);
            }
            producer = fence(cluster, producer);
            CheckpointReader.Tail early = reader.readTail(timeout);
            assertThat(reader.settle(early, timeout)).map(c -> c.position().seq()).contains(3L);

            write(producer, topic, cluster, 4, true);                      // committed after the early read
            producer = fence(cluster, producer);
            assertThat(reader.settle(early, timeout)).map(c -> c.position().seq()).contains(4L);

            // a transaction open during the early read, committed before the fence (a zombie's last commit)
            sendOpen(producer, topic, cluster, 5);
            CheckpointReader.Tail open = reader.readTail(timeout);
            assertThat(open.checkpoint()).map(c -> c.position().seq()).contains(4L);
            producer.commitTransaction();
            producer = fence(cluster, producer);
            assertThat(reader.settle(open, timeout)).map(c -> c.position().seq()).contains(5L);

            // one open during the early read and aborted by the fence: the answer stays the last committed
            sendOpen(producer, topic, cluster, 6);
            CheckpointReader.Tail aborted = reader.readTail(timeout);
            producer = fence(cluster, producer);
            assertThat(reader.settle(aborted, timeout)).map(c -> c.position().seq()).contains(5L);
            producer.close();
        }
    }

    @Test
    void aStandbyKeepsItsReadCurrentAndATakeoverSettlesFromIt() throws Exception {
        String cluster = ItSupport.uniqueCluster("standing");
        String topic = createTopic(cluster);
        Map<String, Object> client = client();
        Duration timeout = Duration.ofSeconds(30);
        try (CheckpointReader reader = new CheckpointReader(client, topic, cluster)) {
            KafkaProducer<String, byte[]> leader = fence(cluster, null);
            for (int i = 1; i <= 3; i++) {
                write(leader, topic, cluster, i, true);
            }
            CheckpointReader.Tail standing = reader.readTail(timeout);
            assertThat(standing.checkpoint()).map(c -> c.position().seq()).contains(3L);

            // the leader goes on committing (and aborting); the standby refreshes now and then
            write(leader, topic, cluster, 4, true);
            write(leader, topic, cluster, 5, false);
            write(leader, topic, cluster, 6, true);
            awaitMarkersWritten(topic);   // transactions v2 writes them after commitTransaction returns
            standing = reader.refresh(standing, timeout);
            assertThat(standing.checkpoint()).map(c -> c.position().seq()).contains(6L);
            standing = reader.refresh(standing, timeout);   // nothing new: the answer stands
            assertThat(standing.checkpoint()).map(c -> c.position().seq()).contains(6L);

            // a transaction open at the last refresh: the read stops before it
            sendOpen(leader, topic, cluster, 7);
            standing = reader.refresh(standing, timeout);
            assertThat(standing.checkpoint()).map(c -> c.position().seq()).contains(6L);

            // takeover: fencing aborts it, and the settled answer is the last committed one
            KafkaProducer<String, byte[]> next = fence(cluster, leader);
            assertThat(reader.settle(standing, timeout)).map(c -> c.position().seq()).contains(6L);

            // had the old leader committed it before the fence, the settled answer would include it
            write(next, topic, cluster, 8, true);
            CheckpointReader.Tail later = reader.refresh(standing, timeout);
            sendOpen(next, topic, cluster, 9);
            next.commitTransaction();
            next = fence(cluster, next);
            assertThat(reader.settle(later, timeout)).map(c -> c.position().seq()).contains(9L);
            next.close();
        }
    }

    private Map<String, Object> client() {
        return Map.of("bootstrap.servers", sandbox.kafka().bootstrapServers());
    }

    /** The cluster's checkpoints topic, one partition. */
    private String createTopic(String cluster) throws Exception {
        String topic = "_pgrelay." + cluster + ".checkpoints";
        try (Admin admin = Admin.create(client())) {
            admin.createTopics(Set.of(new NewTopic(topic, 1, (short) 1))).all().get();
        }
        return topic;
    }

    /** A new producer with the cluster's transactional id; its initTransactions fences {@code previous}. */
    private KafkaProducer<String, byte[]> fence(String cluster, KafkaProducer<String, byte[]> previous) {
        Map<String, Object> p = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, sandbox.kafka().bootstrapServers(),
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, "pgrelay-" + cluster);
        KafkaProducer<String, byte[]> next = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        next.initTransactions();
        if (previous != null) {
            previous.close(Duration.ZERO);
        }
        return next;
    }

    /**
     * Until the topic's last stable offset reaches its end: every transaction ended so far has its
     * commit or abort marker written, so a read_committed read sees all of them.
     */
    private void awaitMarkersWritten(String topic) throws Exception {
        org.apache.kafka.common.TopicPartition tp = new org.apache.kafka.common.TopicPartition(topic, 0);
        try (Admin admin = Admin.create(client())) {
            ItSupport.await("the last stable offset of " + topic + " at its end", Duration.ofSeconds(10), () -> {
                try {
                    long stable = admin.listOffsets(Map.of(tp, org.apache.kafka.clients.admin.OffsetSpec.latest()),
                            new org.apache.kafka.clients.admin.ListOffsetsOptions(org.apache.kafka.common.IsolationLevel.READ_COMMITTED))
                            .partitionResult(tp).get().offset();
                    long end = admin.listOffsets(Map.of(tp, org.apache.kafka.clients.admin.OffsetSpec.latest()))
                            .partitionResult(tp).get().offset();
                    return stable == end;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
        }
    }

    /** Begins a transaction and sends checkpoint {@code i} in it, left open. */
    private static void sendOpen(KafkaProducer<String, byte[]> producer, String topic, String cluster, int i) {
        producer.beginTransaction();
        producer.send(new ProducerRecord<>(topic, cluster, new Checkpoint(new Position(Lsn.of((long) i << 8), i), 1, "a").toJson()));
        producer.flush();
    }

    private static void write(KafkaProducer<String, byte[]> producer, String topic, String cluster, int i, boolean commit) {
        sendOpen(producer, topic, cluster, i);
        if (commit) {
            producer.commitTransaction();
        } else {
            producer.abortTransaction();
        }
    }
}

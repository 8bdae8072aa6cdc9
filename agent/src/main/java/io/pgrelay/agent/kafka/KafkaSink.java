package io.pgrelay.agent.kafka;

import io.pgrelay.agent.checkpoint.Checkpoint;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The one transactional producer of a cluster ({@code transactional.id = pgrelay-<cluster>}).
 * Events are sent inside a Kafka transaction that is opened on the first send and committed, with a
 * checkpoint record, by {@link #commit}. Starting a sink fences every older producer of the cluster.
 *
 * <p>Thread rule: one thread (the pipeline's sink thread) calls every method except {@link #close}.
 * Send callbacks run on the producer's I/O thread; they only record the first failure.
 */
public final class KafkaSink implements Sink, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(KafkaSink.class);

    /** The producer's {@code transaction.timeout.ms} unless the user sets it. */
    public static final Duration DEFAULT_TRANSACTION_TIMEOUT = Duration.ofMinutes(10);
    /** The producer's {@code buffer.memory} unless {@code kafka.producer} sets it (Kafka's own is 32 MB). */
    static final long DEFAULT_BUFFER_MEMORY = 4L * 1024 * 1024;
    /** How long a sink waits for the first broker to answer: a slow broker does, a down one is reported. */
    private static final Duration BROKER_WAIT = Duration.ofSeconds(10);

    private final KafkaProducer<byte[], byte[]> producer;
    private final Admin admin;
    private final String checkpointTopic;
    private final byte[] checkpointKey;
    private final int maxRequestSize;
    private final KafkaTopics topics;
    private final AtomicReference<Exception> sendFailure = new AtomicReference<>();
    private final Callback onAck = (metadata, exception) -> {
        if (exception != null) {
            sendFailure.compareAndSet(null, exception);
        }
    };
    /** The previous commit, until the coordinator completed it: the next transaction's first records wait for that. */
    private final CommitCompletion completion;
    private boolean inTransaction;
    private long transactionBytes;
    private long transactionRecords;
    private long transactionStartNanos;

    /**
     * Creates the producer and fences older producers of the cluster. Blocks until Kafka answers
     * (up to the producer's {@code max.block.ms}).
     */
    public KafkaSink(Map<String, Object> clientConfig, Map<String, String> producerOverrides, String cluster,
                     String checkpointTopic, int partitions) {
        this(prepare(clientConfig, producerOverrides, cluster, checkpointTopic, partitions));
    }

    private KafkaSink(Prepared prepared) {
        this.admin = prepared.admin;
        this.maxRequestSize = prepared.maxRequestSize;
        this.checkpointTopic = prepared.checkpointTopic;
        this.checkpointKey = prepared.checkpointKey;
        this.topics = prepared.topics;
        this.completion = new CommitCompletion(prepared.admin, prepared.transactionalId);
        try {
            prepared.producer.initTransactions();
        } catch (RuntimeException e) {
            prepared.close();
            java.util.Optional<Throwable> denied = KafkaFailures.accessDenial(e);
            if (denied.isPresent()) {
                throw new KafkaSinkException(KafkaFailures.describe(denied.get(), "WRITE", "TRANSACTIONAL_ID " + prepared.transactionalId), e);
            }
            throw e;
        }
        this.producer = prepared.producer;
    }

    /**
     * Everything a leader's sink needs except fencing: the admin client, a broker that answers, the
     * checkpoint topic and a producer object that has not yet called {@code initTransactions()}.
     * A standby prepares one ahead, so that a takeover only waits for the fencing round trip.
     */
    public static Prepared prepare(Map<String, Object> clientConfig, Map<String, String> producerOverrides, String cluster,
                                   String checkpointTopic, int partitions) {
        return new Prepared(clientConfig, producerOverrides, cluster, checkpointTopic, partitions);
    }

    /** The producer's settings: pgrelay's defaults, then {@code kafka.producer}, then what the guarantees rest on. */
    static Map<String, Object> producerConfig(Map<String, Object> clientConfig, Map<String, String> producerOverrides,
                                              String cluster) {
        Map<String, Object> props = new HashMap<>(clientConfig);
        // Throughput defaults; anything the user sets under kafka.producer wins.
        props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, String.valueOf(256 * 1024));
        // A new leader's initTransactions() waits while the coordinator aborts the dead leader's open
        // transaction, answering CONCURRENT_TRANSACTIONS; the default backoff (up to 1 s) would add
        // seconds to every takeover. The first send of a transaction begun right after a commit gets
        // the same answer while the commit markers are being written (a millisecond or two): a short
        // first backoff keeps that off the end-to-end latency.
        props.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, "5");
        props.put(ProducerConfig.RETRY_BACKOFF_MAX_MS_CONFIG, "100");
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
        // A PostgreSQL transaction is one Kafka transaction however long it takes to stream, up to
        // half of this (then it is split): 10 minutes, within the broker's default maximum of 15.
        props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, String.valueOf(DEFAULT_TRANSACTION_TIMEOUT.toMillis()));
        props.putAll(producerOverrides);
        // What the guarantees rest on is not negotiable.
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId(cluster));
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        // The producer's buffer lives in the heap, and so does every record in it until the broker
        // acknowledges it. Kafka's 32 MB let ~64,000 records pile up there during a bulk drain, more
        // than the young generation's survivor space holds, so they aged into the old generation
        // and the whole heap was touched. 4 MB keeps the network busy (a thousand 4 KB records) and
        // the records young; a record as large as max.request.size still fits twice.
        props.putIfAbsent(ProducerConfig.BUFFER_MEMORY_CONFIG,
                String.valueOf(Math.max(DEFAULT_BUFFER_MEMORY, 2L * maxRequestSize(props))));
        return props;
    }

    static String transactionalId(String cluster) {
        return "pgrelay-" + cluster;
    }

    private static int maxRequestSize(Map<String, Object> props) {
        return Integer.parseInt(String.valueOf(props.getOrDefault(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, "1048576")));
    }

    /** A sink not yet started: holds clients, fences nobody. Closed unless {@link #activate()}d. */
    public static final class Prepared implements AutoCloseable {
        private final Admin admin;
        private final KafkaProducer<byte[], byte[]> producer;
        private final int maxRequestSize;
        private final KafkaTopics topics;
        private final String checkpointTopic;
        private final byte[] checkpointKey;
        private final String transactionalId;

        private Prepared(Map<String, Object> clientConfig, Map<String, String> producerOverrides, String cluster,
                         String checkpointTopic, int partitions) {
            Map<String, Object> props = producerConfig(clientConfig, producerOverrides, cluster);
            this.transactionalId = transactionalId(cluster);
            this.maxRequestSize = maxRequestSize(props);
            this.checkpointTopic = checkpointTopic;
            this.checkpointKey = cluster.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            this.admin = Admin.create(clientConfig);
            this.topics = new KafkaTopics(admin, partitions, maxRequestSize > 1048576
                    ? Map.of("max.message.bytes", String.valueOf(maxRequestSize)) : Map.of());
            KafkaProducer<byte[], byte[]> p = null;
            try {
                awaitBroker(admin, String.valueOf(clientConfig.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG)));
                topics.ensureCheckpoint(checkpointTopic);
                p = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
            } catch (RuntimeException e) {
                admin.close(Duration.ZERO);
                throw e;
            }
            this.producer = p;
        }

        /**
         * Creates ahead, unless they exist, the topics a new leader makes sure of before it streams
         * (the listed tables' topics and the schema topic), and has the producer look up their
         * partitions, so a takeover waits neither for the topics nor, on its first records, for
         * their metadata.
         */
        public void ensureTopics(java.util.Collection<String> tableTopics, String schemaTopic) {
            for (String topic : tableTopics) {
                topics.ensure(topic);
            }
            topics.ensureSchema(schemaTopic);
            for (String topic : tableTopics) {
                partitionsFor(topic);
            }
            partitionsFor(schemaTopic);
        }

        /** The producer's metadata look-up; a topic it may not describe is one it may not WRITE (which implies DESCRIBE). */
        private void partitionsFor(String topic) {
            try {
                producer.partitionsFor(topic);
            } catch (TopicAuthorizationException e) {
                throw new KafkaSinkException(KafkaFailures.describe(e, "WRITE", "topic " + topic), e);
            }
        }

        /** Fences every older producer of the cluster and returns the sink. */
        public KafkaSink activate() {
            return new KafkaSink(this);
        }

        @Override
        public void close() {
            try {
                producer.close(Duration.ZERO);
            } finally {
                admin.close(Duration.ZERO);
            }
        }
    }

    /**
     * Fails within {@link #BROKER_WAIT} when no broker answers, rather than after the clients' own
     * 30–60 s timeouts: the agent then says so in one line and retries, and holds the slot (sending
     * status updates) no longer than that per attempt.
     */
    private static void awaitBroker(Admin admin, String bootstrapServers) {
        int ms = (int) BROKER_WAIT.toMillis();
        try {
            admin.describeCluster(new DescribeClusterOptions().timeoutMs(ms)).nodes().get(ms + 1000L, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException) {
                throw unanswered(bootstrapServers, e.getCause());
            }
            throw new KafkaSinkException("kafka: cannot use " + bootstrapServers + ": " + KafkaFailures.describe(e.getCause()), e.getCause());
        } catch (TimeoutException e) {
            throw unanswered(bootstrapServers, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaSinkException("interrupted while reaching kafka at " + bootstrapServers, e);
        }
    }

    private static KafkaSinkException unanswered(String bootstrapServers, Throwable cause) {
        return new KafkaSinkException("kafka: no broker at " + bootstrapServers + " answered within " + BROKER_WAIT.toSeconds()
                + " s; check kafka.bootstrapServers and that the brokers run", cause);
    }

    /** Creates the topic with the configured partitions unless it exists. Remembers topics it has seen. */
    @Override
    public void ensureTopic(String topic) {
        topics.ensure(topic);
    }

    /**
     * Creates the schema topic unless it exists: compacted, one partition, so that schema and DDL
     * events keep one order.
     */
    public void ensureSchemaTopic(String topic) {
        topics.ensureSchema(topic);
    }

    @Override
    public int maxRequestSize() {
        return maxRequestSize;
    }

    @Override
    public void send(String topic, byte[] key, byte[] value, Iterable<Header> headers) {
        begin();
        sendRecord(new ProducerRecord<>(topic, null, key, value, headers));
    }

    @Override
    public void sendToEveryPartition(String topic, byte[] key, byte[] value, Iterable<Header> headers) {
        begin();
        int partitions;
        try {
            partitions = producer.partitionsFor(topic).size();
        } catch (ProducerFencedException | InvalidProducerEpochException e) {
            throw new FencedException(e);
        }
        for (int p = 0; p < partitions; p++) {
            sendRecord(new ProducerRecord<>(topic, p, key, value, headers));
        }
    }

    private void sendRecord(ProducerRecord<byte[], byte[]> record) {
        try {
            // No per-record callback: a failed send fails the transaction's commit, which is where we look.
            // Except a send refused before its record was queued (no metadata within max.block.ms: the
            // brokers unreachable), which comes back as a failed future: without this look the sink would
            // go on sending, max.block.ms per record, and never reach the commit.
            java.util.concurrent.Future<?> sent = producer.send(record);
            if (sent.isDone()) {   // every send: this one volatile read; the rest only for a send already over
                failedAtOnce(sent).ifPresent(e -> sendFailure.compareAndSet(null, e));
                throwIfSendFailed();
            }
        } catch (ProducerFencedException | InvalidProducerEpochException e) {
            throw new FencedException(e);
        }
        byte[] key = record.key();
        byte[] value = record.value();
        transactionBytes += (key == null ? 0 : key.length) + (value == null ? 0 : value.length);
        transactionRecords++;
    }

    /**
     * Opens a Kafka transaction unless one is open: for a transaction that writes no event but must
     * commit a checkpoint (a snapshot's state moved on).
     */
    @Override
    public void begin() {
        throwIfSendFailed();
        if (!inTransaction) {
            completion.await();
            producer.beginTransaction();
            inTransaction = true;
            transactionStartNanos = System.nanoTime();
            transactionBytes = 0;
            transactionRecords = 0;
        }
    }

    @Override
    public boolean inTransaction() {
        return inTransaction;
    }

    @Override
    public long transactionBytes() {
        return transactionBytes;
    }

    @Override
    public long transactionRecords() {
        return transactionRecords;
    }

    @Override
    public long transactionStartNanos() {
        return transactionStartNanos;
    }

    /**
     * Writes the checkpoint and commits the open transaction. When this returns, every record sent
     * since the last commit is durable and visible to {@code read_committed} consumers.
     */
    @Override
    public void commit(Checkpoint checkpoint) {
        if (!inTransaction) {
            return;
        }
        try {
            producer.send(new ProducerRecord<>(checkpointTopic, checkpointKey, checkpoint.toJson()), onAck);
            producer.commitTransaction();
            completion.committed();
        } catch (ProducerFencedException | InvalidProducerEpochException e) {
            throw new FencedException(e);
        } catch (RuntimeException e) {
            java.util.Optional<Throwable> denied = KafkaFailures.accessDenial(e);
            if (denied.isPresent()) {
                throw new KafkaSinkException(KafkaFailures.describe(denied.get(), "WRITE", "topic"), e);
            }
            throw e;
        }
        throwIfSendFailed();
        inTransaction = false;
    }

    /** Aborts the open transaction: nothing sent since the last commit becomes visible. */
    public void abort() {
        if (!inTransaction) {
            return;
        }
        try {
            producer.abortTransaction();
        } catch (ProducerFencedException | InvalidProducerEpochException e) {
            throw new FencedException(e);
        }
        inTransaction = false;
    }

    /**
     * The failure of a send the producer refused before queueing its record, which it returns as a
     * completed future rather than throwing; empty for a send under way or done well.
     */
    static java.util.Optional<Exception> failedAtOnce(java.util.concurrent.Future<?> sent) {
        if (!sent.isDone()) {
            return java.util.Optional.empty();
        }
        try {
            sent.get();
            return java.util.Optional.empty();
        } catch (java.util.concurrent.ExecutionException e) {
            return java.util.Optional.of(e.getCause() instanceof Exception cause ? cause : e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return java.util.Optional.empty();
        }
    }

    private void throwIfSendFailed() {
        Exception failure = sendFailure.get();
        if (failure == null) {
            return;   // every send: only the null check
        }
        if (failure instanceof ProducerFencedException || failure instanceof InvalidProducerEpochException) {
            throw new FencedException(failure);
        }
        java.util.Optional<Throwable> denied = KafkaFailures.accessDenial(failure);
        throw new KafkaSinkException(denied.isPresent() ? KafkaFailures.describe(denied.get(), "WRITE", "topic")
                : "a record was not written to Kafka: " + failure.getMessage(), failure);
    }

    /** Replicas of this sink's topics that are out of sync now ({@link KafkaTopics#replicaHealth()}). */
    @Override
    public String replicaHealth() {
        return topics.replicaHealth();
    }

    /** Closes without committing: an open transaction is aborted by the broker. */
    @Override
    public void close() {
        log.info("kafka: {} transactions' first records waited for the previous commit to complete ({} look-ups)",
                completion.waits(), completion.lookups());
        try {
            producer.close(Duration.ofSeconds(5));
        } finally {
            admin.close(Duration.ofSeconds(5));
        }
    }

    /** Another producer with the cluster's transactional id started: this leader is a zombie. */
    public static final class FencedException extends RuntimeException {
        FencedException(Throwable cause) {
            super("fenced by a newer leader's producer: " + cause.getMessage(), cause);
        }
    }

    public static final class KafkaSinkException extends RuntimeException {
        public KafkaSinkException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}

package io.pgrelay.sandbox.bench;

import javax.management.MBeanServer;
import javax.management.ObjectName;
import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * What the in-process broker's transaction verification did during one candidate's run, from its
 * own metrics ({@code kafka.server:type=AddPartitionsToTxnManager}): under transactions v2 the
 * partition leader asks the transaction coordinator to add each partition at a transaction's first
 * records there, and retries every {@code add.partitions.to.txn.retry.backoff.ms} while the
 * coordinator answers {@code CONCURRENT_TRANSACTIONS} (the previous commit not complete yet).
 * Every attempt is a {@code VerificationTimeMs} sample; every partition an attempt could not add
 * is a {@code VerificationFailureRate} event. A non-transactional candidate has neither.
 */
record BrokerVerifications(long attempts, long failedPartitions) {

    private static final String GROUP = "kafka.server:type=AddPartitionsToTxnManager,name=";

    static BrokerVerifications now() {
        return new BrokerVerifications(count("VerificationTimeMs"), count("VerificationFailureRate"));
    }

    BrokerVerifications since(BrokerVerifications before) {
        return new BrokerVerifications(attempts - before.attempts, failedPartitions - before.failedPartitions);
    }

    String describe() {
        if ("own".equals(System.getProperty("pgrelay.sandbox.brokerJvm"))) {
            return "broker: in its own JVM (-Dpgrelay.sandbox.brokerJvm=own), its verification metrics not read";
        }
        return String.format(Locale.ROOT, "broker: %,d verification attempts, %,d partitions not added at once (retried)", attempts,
                failedPartitions);
    }

    private static long count(String name) {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        try {
            return ((Number) server.getAttribute(new ObjectName(GROUP + name), "Count")).longValue();
        } catch (javax.management.InstanceNotFoundException e) {
            return 0;   // no transactional producer has written yet
        } catch (Exception e) {
            throw new IllegalStateException("broker metric " + name + ": " + e, e);
        }
    }
}

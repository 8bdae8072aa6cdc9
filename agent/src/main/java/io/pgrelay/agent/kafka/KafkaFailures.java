package io.pgrelay.agent.kafka;

import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;

/**
 * Says what a failed Kafka call means for an operator: which permission is missing, or that TLS or
 * SASL failed. Kafka's own messages name neither the operation ("Not authorized to access topics")
 * nor, for TLS, the reason (it sits in a nested cause).
 */
public final class KafkaFailures {

    private KafkaFailures() {
    }

    /** One line for a failure of a call that is not about a particular permission. */
    public static String describe(Throwable e) {
        if (e instanceof SslAuthenticationException) {
            String root = rootMessage(e);
            boolean refusedUs = root != null && (root.contains("bad_certificate") || root.contains("certificate_required")
                    || root.contains("unknown_ca"));
            return "TLS handshake with the broker failed: " + root + (refusedUs
                    ? " (the broker refused this client's certificate, or its lack of one: set kafka.security.tls.cert and"
                            + " kafka.security.tls.key to a certificate the broker's truststore accepts)"
                    : " (check kafka.security.tls.ca and that the broker's certificate names the host)");
        }
        if (e instanceof SaslAuthenticationException) {
            return "SASL authentication failed: " + e.getMessage() + " (check kafka.security.sasl)";
        }
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }

    /**
     * The failure of {@code operation} (CREATE, WRITE, READ, DESCRIBE) on {@code resource} (e.g.
     * {@code "topic orders"}, {@code "TRANSACTIONAL_ID pgrelay-c"}) when it is an authorization
     * failure, else {@link #describe}.
     */
    public static String describe(Throwable e, String operation, String resource) {
        if (e instanceof TopicAuthorizationException t && !t.unauthorizedTopics().isEmpty() && resource.startsWith("topic")) {
            return "kafka: not authorized to " + operation + " topic " + String.join(", ", t.unauthorizedTopics());
        }
        if (e instanceof TopicAuthorizationException || e instanceof TransactionalIdAuthorizationException) {
            return "kafka: not authorized to " + operation + " " + resource;
        }
        return "kafka: " + describe(e);
    }

    /** True when the failure is a missing permission or failed authentication, which a retry does not cure. */
    public static boolean isAccessDenied(Throwable e) {
        return accessDenial(e).isPresent();
    }

    /** The authorization or authentication failure in {@code e}'s chain of causes ({@code e} itself included), if any. */
    public static java.util.Optional<Throwable> accessDenial(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof org.apache.kafka.common.errors.AuthorizationException
                    || t instanceof org.apache.kafka.common.errors.AuthenticationException) {
                return java.util.Optional.of(t);
            }
        }
        return java.util.Optional.empty();
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
}

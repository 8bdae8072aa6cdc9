package io.pgrelay.agent.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgrelay.agent.config.FormatConfig;
import io.pgrelay.agent.config.Masking;
import io.pgrelay.agent.config.Units;
import io.pgrelay.agent.core.Finding;
import io.pgrelay.common.tls.TlsContexts;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Registers schemas with a schema registry through Confluent's REST API
 * ({@code POST <url>/subjects/<subject>/versions}), as Confluent's serializers do with
 * {@code auto.register.schemas=true}: the registry answers the id of the schema, new or already
 * known, and refuses one that breaks the subject's compatibility rule. Ids are cached per subject
 * and schema text, so a schema costs one request per agent run.
 *
 * <p>Failures: a registry that cannot be reached or answers 5xx is
 * {@link RegistryUnavailableException} (the leader retries with backoff) until it has failed so
 * for {@code kafka.schemaRegistry.retryTimeout} without a single success; the first failure after
 * that is {@link RegistryDownException}, fatal. One that refuses the schema (409 incompatible,
 * 422 invalid, 401/403) is {@link SchemaRejectedException}, fatal: a person must change the
 * subject's rule or the table. All name the registry, the subject and the registry's reason; none
 * names the password. The outage is timed here, in the client that outlives a pipeline's restarts
 * (one per agent process), so each retry of the leader counts against the same clock.
 *
 * <p>Thread-safe.
 */
public final class SchemaRegistryClient {

    static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String url;
    private final String authorization;   // null without basic auth
    private final HttpClient client;
    private final Map<String, Integer> ids = new ConcurrentHashMap<>();
    private final Duration retryTimeout;
    /** {@link System#nanoTime()} of the first failure since the registry last answered; {@link #UP} while it answers. */
    private final AtomicLong downSince = new AtomicLong(UP);
    /** {@link System#nanoTime()} of the latest failure. */
    private final AtomicLong lastFailure = new AtomicLong(UP);
    private static final long UP = Long.MIN_VALUE;
    /**
     * A failure this long after the one before starts a new outage: the leader retries at least
     * every 30 s (its longest backoff) plus a request's 10 s, so a longer quiet means it stopped
     * needing the registry (the shape that failed is gone, or it stood by) rather than that the
     * registry stayed down, and an old outage must not make a new one fatal at once.
     */
    static final Duration NEW_OUTAGE_AFTER = Duration.ofMinutes(2);
    private final long newOutageAfterNanos;

    public SchemaRegistryClient(FormatConfig.SchemaRegistry config) {
        this(config, NEW_OUTAGE_AFTER);
    }

    SchemaRegistryClient(FormatConfig.SchemaRegistry config, Duration newOutageAfter) {
        this.newOutageAfterNanos = newOutageAfter.toNanos();
        this.url = config.url();
        this.retryTimeout = config.retryTimeout();
        this.authorization = config.username() == null ? null : "Basic " + Base64.getEncoder().encodeToString(
                (config.username() + ":" + config.password().reveal()).getBytes(StandardCharsets.UTF_8));
        HttpClient.Builder client = HttpClient.newBuilder().connectTimeout(TIMEOUT);
        FormatConfig.SchemaRegistry.Tls tls = config.tls();
        if (tls.isSet()) {
            client.sslContext(TlsContexts.client(tls.ca(), true, tls.cert(), tls.key()));
        }
        this.client = client.build();
    }

    /**
     * The id the registry gives {@code schema} under {@code subject}, registering it as the
     * subject's new version if it is new.
     *
     * @param context what the schema is for, for messages: {@code "the first row of public.orders at LSN 0/16B3748"}
     */
    public int register(String subject, String schema, String context) {
        String cacheKey = subject + '\n' + schema;
        Integer known = ids.get(cacheKey);
        if (known != null) {
            return known;
        }
        int id;
        try {
            id = post(subject, schema, " (for " + context + ")");
        } catch (RegistryUnavailableException e) {
            throw outage(e, subject, context);
        }
        downSince.set(UP);
        lastFailure.set(UP);
        ids.put(cacheKey, id);
        return id;
    }

    /**
     * {@code e} while the outage is younger than {@code retryTimeout}; after that one fatal
     * {@link RegistryDownException} that says for how long, and what it was registering.
     */
    private RuntimeException outage(RegistryUnavailableException e, String subject, String context) {
        long now = System.nanoTime();
        long previous = lastFailure.getAndSet(now);
        if (previous == UP || now - previous > newOutageAfterNanos) {
            downSince.set(now);
        } else {
            downSince.compareAndSet(UP, now);
        }
        long downNanos = now - downSince.get();
        if (downNanos < retryTimeout.toNanos()) {
            return e;
        }
        return new RegistryDownException("schema registry " + Masking.url(url) + " has been unreachable or failing for "
                + Math.round(downNanos / 1e9) + " s (kafka.schemaRegistry.retryTimeout: " + Units.formatDuration(retryTimeout)
                + "); the leader stops: could not register subject " + subject + " (for " + context
                + "); nothing from that row on is written and the slot stays before it. Last failure:"
                + lastFailure(e, subject, context), e.getCause());
    }

    /** The failure's own words, without the registry, subject and context that {@link #post} puts in front. */
    private String lastFailure(RegistryUnavailableException e, String subject, String context) {
        String m = String.valueOf(e.getMessage());
        String prefix = "schema registry " + Masking.url(url) + " could not register subject " + subject + " (for " + context + ")";
        String rest = m.startsWith(prefix) ? m.substring(prefix.length()) : " " + m;
        return rest.startsWith(":") ? rest.substring(1) : rest;
    }

    /**
     * {@code check}'s look at the registry: lists its subjects ({@code GET <url>/subjects}) as the
     * agent would reach it — TLS, basic auth — and says what answered. Registering is not tried (it
     * would create a subject), so a user that may read but not write passes here and is refused at
     * the first row, with its own message.
     */
    public Finding check() {
        String where = "schema registry: " + Masking.url(url);
        try {
            HttpResponse<String> response = client.send(request("/subjects").GET().build(), HttpResponse.BodyHandlers.ofString());
            int status = response.statusCode();
            if (status == 200) {
                JsonNode subjects = JSON.readTree(response.body());
                return Finding.ok(where + " answered" + (authorization == null ? "" : ", credentials accepted") + "; "
                        + (subjects != null && subjects.isArray() ? subjects.size() + " subject(s)" : "a list of subjects")
                        + " (registering is first tried at the first row)");
            }
            String why = switch (status) {
                case 401 -> "refused the credentials of kafka.schemaRegistry";
                case 403 -> "does not let kafka.schemaRegistry's user list subjects (permission denied)";
                case 404 -> "has no Confluent API at this URL (for Apicurio, end it with /apis/ccompat/v7)";
                default -> "answered";
            };
            return Finding.fail(where + " " + why + " (HTTP " + status + ")" + reason(response.body()));
        } catch (IOException e) {
            return Finding.fail(where + " cannot be reached: " + failure(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Finding.fail(where + ": interrupted");
        }
    }

    /** A request to {@code <url><path>} with the API's media type, the timeout and, if configured, basic auth. */
    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url + path)).timeout(TIMEOUT).header("Accept", CONTENT_TYPE);
        return authorization == null ? request : request.header("Authorization", authorization);
    }

    private int post(String subject, String schema, String context) {
        String where = "schema registry " + Masking.url(url);
        HttpResponse<String> response;
        try {
            String body = JSON.writeValueAsString(Map.of("schema", schema));
            HttpRequest request = request("/subjects/" + URLEncoder.encode(subject, StandardCharsets.UTF_8) + "/versions")
                    .header("Content-Type", CONTENT_TYPE)
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build();
            response = client.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new RegistryUnavailableException(where + " could not register subject " + subject + context + ": "
                    + failure(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryUnavailableException(where + ": interrupted while registering subject " + subject + context, e);
        }
        int status = response.statusCode();
        if (status == 200) {
            try {
                JsonNode id = JSON.readTree(response.body()).get("id");
                if (id != null && id.canConvertToInt()) {
                    return id.intValue();
                }
            } catch (IOException notJson) {
                // reported below
            }
            throw new SchemaRejectedException(where + " answered subject " + subject + context + " without a schema id: "
                    + brief(response.body()));
        }
        String reason = reason(response.body());
        if (status >= 500 || status == 408 || status == 429) {
            throw new RegistryUnavailableException(where + " could not register subject " + subject + context
                    + " (HTTP " + status + ")" + reason, null);
        }
        String what = switch (status) {
            case 409 -> "refused the new schema of subject " + subject + " as incompatible with its earlier versions";
            case 422 -> "refused the schema of subject " + subject + " as invalid";
            case 401 -> "refused the credentials of kafka.schemaRegistry (subject " + subject + ")";
            case 403 -> "does not let kafka.schemaRegistry's user register subject " + subject
                    + " (permission denied: it needs write access to the subject)";
            default -> "refused to register subject " + subject;
        };
        throw new SchemaRejectedException(where + " " + what + context + " (HTTP " + status + ")" + reason);
    }

    /**
     * What went wrong with the connection: for a refused certificate, the refusal's own words
     * (which certificate, and against which CA or host name; see {@code TlsContexts}) rather than
     * the JDK's handshake message around them.
     */
    private static String failure(IOException e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (e instanceof javax.net.ssl.SSLException) {
            java.security.cert.CertificateException refused = TlsContexts.refusal(e);
            String reason = refused != null && refused.getMessage() != null ? refused.getMessage() : message;
            return "TLS handshake failed: " + reason + " (kafka.schemaRegistry.tls)";
        }
        return message;
    }

    /**
     * {@code ": "} and the registry's {@code message}, else the start of the body; nothing for an
     * empty body (a 401 from a server's basic auth has none).
     */
    private static String reason(String body) {
        try {
            JsonNode message = JSON.readTree(body).get("message");
            if (message != null && message.isTextual()) {
                return ": " + message.textValue();
            }
        } catch (IOException notJson) {
            // fall through
        }
        String brief = brief(body);
        return brief.isEmpty() ? "" : ": " + brief;
    }

    private static String brief(String body) {
        String b = body == null ? "" : body.strip();
        return b.length() > 300 ? b.substring(0, 300) + "…" : b;
    }

    /** The registry cannot be reached or failed: nothing was written; the leader retries with backoff. */
    public static final class RegistryUnavailableException extends RuntimeException {
        public RegistryUnavailableException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * The registry could not be reached (or failed) for longer than {@code kafka.schemaRegistry.retryTimeout}:
     * nothing was written; the leader stops ({@code Failures} classifies it fatal).
     */
    public static final class RegistryDownException extends RuntimeException {
        public RegistryDownException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * The registry refused the schema: nothing was written; retrying cannot help, a person must act
     * ({@code Failures} classifies it fatal).
     */
    public static final class SchemaRejectedException extends RuntimeException {
        public SchemaRejectedException(String message) {
            super(message);
        }
    }
}

package io.pgrelay.agent.alert;

import io.pgrelay.agent.core.Backoff;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgrelay.agent.config.AlertsConfig;
import io.pgrelay.agent.config.Masking;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * POSTs a JSON notification to {@code alerts.webhook.url} when an alert fires or resolves, with
 * retries and exponential backoff. Only the agent for which {@code isSender} answers true at that
 * moment sends (see {@code docs/operations.md}, "Who sends webhook notifications"), so a cluster
 * of N agents sends each notification once, not N times.
 *
 * <p>Notifications go out one at a time, in order, from one daemon thread, so a slow receiver
 * never holds up the slot watcher. The URL is a secret: it appears in no log line.
 */
public final class AlertWebhook implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AlertWebhook.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration MAX_BACKOFF = Duration.ofMinutes(1);

    private final AlertsConfig.Webhook config;
    private final String cluster;
    private final String agentId;
    private final BooleanSupplier isSender;
    private final HttpClient client;
    private final ExecutorService sender = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "pgrelay-alert-webhook");
        t.setDaemon(true);
        return t;
    });

    public AlertWebhook(AlertsConfig.Webhook config, String cluster, String agentId, BooleanSupplier isSender) {
        this.config = config;
        this.cluster = cluster;
        this.agentId = agentId;
        this.isSender = isSender;
        this.client = HttpClient.newBuilder().connectTimeout(config.timeout()).build();
    }

    /** Sends the change when a webhook is configured and this agent is the cluster's sender now. */
    public void notify(AlertRules.Change change) {
        if (!config.enabled()) {
            return;
        }
        AlertRules.Rule rule = change.alert().rule();
        if (!isSender.getAsBoolean()) {
            log.debug("alert {} ({}) {}: another agent of the cluster notifies", rule.alertName, rule.severity, status(change));
            return;
        }
        String body = body(change);
        sender.execute(() -> post(rule, status(change), body));
    }

    private static String status(AlertRules.Change change) {
        return change.firing() ? "firing" : "resolved";
    }

    String body(AlertRules.Change change) {
        AlertRules.Alert a = change.alert();
        Map<String, Object> alert = new LinkedHashMap<>();
        alert.put("name", a.rule().alertName);
        alert.put("severity", a.rule().severity);
        alert.put("summary", a.summary());
        alert.put("since", a.since().toString());
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", status(change));
        body.put("cluster", cluster);
        body.put("agent", agentId);
        body.put("fingerprint", cluster + "/" + a.rule().alertName + "/" + a.rule().severity);
        body.put("at", change.at().toString());
        body.put("alert", alert);
        try {
            return JSON.writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write alert notification as JSON", e);
        }
    }

    /** One notification: the first attempt, then {@code retries} more, waiting backoff, 2×backoff, … (at most 1 min). */
    private void post(AlertRules.Rule rule, String status, String body) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(config.url().reveal()))
                .timeout(config.timeout())
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
        Backoff backoff = new Backoff(config.backoff(), MAX_BACKOFF);
        for (int attempt = 1; attempt <= config.retries() + 1; attempt++) {
            String failure;
            try {
                HttpResponse<Void> response = client.send(request, HttpResponse.BodyHandlers.discarding());
                if (response.statusCode() / 100 == 2) {
                    log.info("alert {} ({}) {}: webhook notified", rule.alertName, rule.severity, status);
                    return;
                }
                failure = "HTTP " + response.statusCode();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                // the exception's words, masked: some carry the URL, whose query may hold a token
                failure = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + Masking.url(e.getMessage()));
            }
            if (attempt > config.retries()) {
                log.error("alert {} ({}) {}: webhook failed {} times, giving up; last: {}",
                        rule.alertName, rule.severity, status, attempt, failure);
                return;
            }
            log.warn("alert {} ({}) {}: webhook attempt {} of {} failed ({}); retrying in {} ms",
                    rule.alertName, rule.severity, status, attempt, config.retries() + 1, failure, backoff.current().toMillis());
            try {
                Thread.sleep(backoff.current().toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            backoff.increase();
        }
    }

    @Override
    public void close() {
        sender.shutdown();
        try {
            sender.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sender.shutdownNow();
    }
}

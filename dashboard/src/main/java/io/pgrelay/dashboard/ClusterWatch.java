package io.pgrelay.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Polls every known agent's {@code /status} and {@code /stats} once a tick, in parallel, and keeps
 * what the page shows: the cluster snapshot ({@code /api/cluster}), 30 minutes of lag and
 * throughput per agent, and the leadership timeline.
 *
 * <p>Threads: the poll thread alone touches {@link AgentState}s and {@link #agents}' membership;
 * the discovery thread only replaces {@link #discovered}; HTTP threads read the volatile
 * {@link #snapshot} and the synchronized {@link Series} and {@link LeadershipTimeline}.
 */
public final class ClusterWatch implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ClusterWatch.class);
    static final ObjectMapper JSON = new ObjectMapper();
    static final Duration TICK = Duration.ofSeconds(1);
    static final int HISTORY_SAMPLES = 30 * 60; // 30 minutes at one sample a tick
    private static final Duration REQUEST_TIMEOUT = Duration.ofMillis(800);
    private static final Duration DISCOVERY_INTERVAL = Duration.ofSeconds(3);
    /** An agent gone from the registry and silent this long is dropped from the page. */
    private static final Duration FORGET_AFTER = Duration.ofMinutes(30);

    /** What the dashboard knows of one agent. Only the poll thread touches it. */
    private static final class AgentState {
        String id;
        String url;
        boolean listed = true;
        boolean reachable;
        JsonNode status;
        Instant lastContact;
        Instant firstSeen = Instant.now();
        long lastEvents = -1;
        long lastEventsAtNanos;
        final Series series = new Series(HISTORY_SAMPLES);

        AgentState(String id, String url) {
            this.id = id;
            this.url = url;
        }

        String key() {
            return id != null ? id : url;
        }
    }

    private final AgentSource source;
    private final String configuredCluster;
    private final AgentClient agentsClient;
    private final List<AgentState> agents = new CopyOnWriteArrayList<>();
    private final LeadershipTimeline timeline = new LeadershipTimeline(200);
    private final ScheduledExecutorService poller = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "dashboard-poll"));
    private final ScheduledExecutorService discovery = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "dashboard-discovery"));
    private final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();
    private volatile List<AgentSource.Endpoint> discovered = List.of();
    private volatile String snapshot;
    private volatile String leaderUrl;
    private volatile String cluster;
    private String lastDiscoveryProblem;

    public ClusterWatch(AgentSource source, String cluster) {
        this(source, cluster, AgentClient.plain(REQUEST_TIMEOUT));
    }

    ClusterWatch(AgentSource source, String cluster, AgentClient agents) {
        this.source = source;
        this.agentsClient = agents;
        this.configuredCluster = cluster;
        this.cluster = cluster;
        this.snapshot = render(List.of(), null);
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    public void start() {
        if (source.fixed()) {
            discovery.execute(this::discover);
        } else {
            discovery.scheduleWithFixedDelay(this::discover, 0, DISCOVERY_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
        }
        poller.scheduleAtFixedRate(this::tick, 0, TICK.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Called with the cluster JSON after every tick, on the poll thread: must not block. */
    public void onSnapshot(Consumer<String> listener) {
        listeners.add(listener);
    }

    /** The body of {@code /api/cluster}. */
    public String snapshot() {
        return snapshot;
    }

    /** The leader's base URL, if the last tick saw one. */
    public Optional<String> leaderUrl() {
        return Optional.ofNullable(leaderUrl);
    }

    /** The body of {@code /api/history}: each agent's samples after {@code sinceMillis}, and the leadership timeline. */
    public String history(long sinceMillis) {
        ObjectNode root = JSON.createObjectNode();
        root.put("windowSeconds", HISTORY_SAMPLES * TICK.toSeconds());
        root.put("now", System.currentTimeMillis());
        ArrayNode list = root.putArray("agents");
        for (AgentState a : agents) {
            ObjectNode n = list.addObject();
            n.put("agent", a.id);
            n.put("url", a.url);
            a.series.writeTo(n, sinceMillis);
        }
        root.set("leadership", timeline.toJson());
        return root.toString();
    }

    private void discover() {
        try {
            discovered = source.endpoints();
            if (lastDiscoveryProblem != null) {
                log.info("member registry readable again: {} agents", discovered.size());
                lastDiscoveryProblem = null;
            }
        } catch (Exception e) {
            String problem = e.getMessage() == null ? e.toString() : e.getMessage();
            if (!problem.equals(lastDiscoveryProblem)) {
                log.warn("cannot read the member registry (keeping the agents known so far): {}", problem);
                lastDiscoveryProblem = problem;
            }
        }
    }

    private void tick() {
        try {
            merge(discovered);
            List<CompletableFuture<Void>> polls = new ArrayList<>();
            for (AgentState a : agents) {
                polls.add(poll(a));
            }
            CompletableFuture.allOf(polls.toArray(CompletableFuture[]::new))
                    .completeOnTimeout(null, REQUEST_TIMEOUT.toMillis() + 100, TimeUnit.MILLISECONDS).join();
            Instant now = Instant.now();
            AgentState leader = leader();
            if (leader != null && timeline.observe(now, leader.id, leader.status.path("epoch").asLong())) {
                log.info("leader of cluster {}: {} (epoch {})", cluster, leader.id, leader.status.path("epoch").asLong());
            }
            leaderUrl = leader == null ? null : leader.url;
            forgetLongGone(now);
            String json = render(agents, leader);
            snapshot = json;
            for (Consumer<String> l : listeners) {
                l.accept(json);
            }
        } catch (RuntimeException e) {
            log.warn("dashboard poll failed: {}", e.toString());
        }
    }

    /** Adds newly listed agents; an id seen again at another address (restarted elsewhere) keeps its history. */
    private void merge(List<AgentSource.Endpoint> endpoints) {
        for (AgentState a : agents) {
            a.listed = source.fixed();
        }
        for (AgentSource.Endpoint e : endpoints) {
            AgentState known = agents.stream()
                    .filter(a -> e.id() != null && e.id().equals(a.id) || e.url().equals(a.url))
                    .findFirst().orElse(null);
            if (known == null) {
                agents.add(new AgentState(e.id(), e.url()));
                log.info("watching agent {} at {}", e.id() == null ? "?" : e.id(), e.url());
            } else {
                if (!known.url.equals(e.url())) {
                    log.info("agent {} moved from {} to {}", known.key(), known.url, e.url());
                    known.url = e.url();
                }
                if (known.id == null) {
                    known.id = e.id();
                }
                known.listed = true;
            }
        }
    }

    private CompletableFuture<Void> poll(AgentState a) {
        String url = a.url;
        CompletableFuture<JsonNode> status = get(url + "/status");
        CompletableFuture<JsonNode> stats = get(url + "/stats");
        return status.thenAcceptBoth(stats, (st, sx) -> record(a, st, sx));
    }

    private CompletableFuture<JsonNode> get(String url) {
        HttpRequest req = agentsClient.get(url, REQUEST_TIMEOUT).build();
        return agentsClient.http().sendAsync(req, HttpResponse.BodyHandlers.ofString())
                .thenApply(r -> {
                    try {
                        return r.statusCode() == 200 ? JSON.readTree(r.body()) : null;
                    } catch (Exception e) {
                        return null;
                    }
                })
                .exceptionally(e -> null);
    }

    /** Runs on an HTTP client thread, but only while the poll thread waits for it in {@link #tick}. */
    private void record(AgentState a, JsonNode status, JsonNode stats) {
        long now = System.currentTimeMillis();
        double rate = Double.NaN;
        if (status == null) {
            if (a.reachable) {
                log.warn("agent {} at {} stopped answering", a.key(), a.url);
            }
            a.reachable = false;
            a.lastEvents = -1;
            a.series.add(now, Double.NaN, Double.NaN, Double.NaN);
            return;
        }
        if (!a.reachable && a.lastContact != null) {
            log.info("agent {} at {} answers again", a.key(), a.url);
        }
        a.reachable = true;
        a.status = status;
        a.lastContact = Instant.ofEpochMilli(now);
        if (a.id == null && status.hasNonNull("agent")) {
            a.id = status.get("agent").asText();
        }
        if (cluster == null && status.hasNonNull("cluster")) {
            cluster = status.get("cluster").asText();
        }
        if (stats != null && stats.path("events").isNumber()) {
            long events = stats.get("events").asLong();
            long nanos = System.nanoTime();
            // a restarted agent counts from zero again: no rate for that one tick
            if (a.lastEvents >= 0 && events >= a.lastEvents) {
                rate = (events - a.lastEvents) / ((nanos - a.lastEventsAtNanos) / 1e9);
            }
            a.lastEvents = events;
            a.lastEventsAtNanos = nanos;
        }
        JsonNode lag = status.path("lag");
        a.series.add(now, number(lag.path("bytes")), number(lag.path("seconds")), rate);
    }

    private static double number(JsonNode n) {
        return n.isNumber() ? n.asDouble() : Double.NaN;
    }

    /** The reachable agent that says it leads; the highest epoch wins should two say so for a moment. */
    private AgentState leader() {
        AgentState best = null;
        for (AgentState a : agents) {
            if (a.reachable && a.id != null && "leader".equals(a.status.path("role").asText())
                    && (best == null || a.status.path("epoch").asLong() > best.status.path("epoch").asLong())) {
                best = a;
            }
        }
        return best;
    }

    private void forgetLongGone(Instant now) {
        agents.removeIf(a -> !a.listed && !a.reachable
                && (a.lastContact == null ? a.firstSeen : a.lastContact).plus(FORGET_AFTER).isBefore(now));
    }

    private String render(List<AgentState> states, AgentState leader) {
        ObjectNode root = JSON.createObjectNode();
        root.put("cluster", cluster != null ? cluster : configuredCluster);
        root.put("leader", leader == null ? null : leader.id);
        ArrayNode list = root.putArray("agents");
        states.stream()
                .sorted((x, y) -> x.key().compareTo(y.key()))
                .forEach(a -> {
                    ObjectNode n = list.addObject();
                    n.put("agent", a.id);
                    n.put("url", a.url);
                    n.put("reachable", a.reachable);
                    n.set("status", a.status);
                    n.put("lastContact", a.lastContact == null ? null : a.lastContact.toString());
                });
        return root.toString();
    }

    @Override
    public void close() {
        discovery.shutdownNow();
        poller.shutdownNow();
    }
}

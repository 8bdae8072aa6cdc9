package io.pgrelay.dashboard;

import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import io.javalin.http.sse.SseClient;
import io.javalin.http.staticfiles.Location;
import io.javalin.util.JavalinLogger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.http.HttpClient;
import javax.net.ssl.SSLContext;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The dashboard's HTTP side (DESIGN.md "Dashboard HTTP"): the page, the aggregated cluster JSON,
 * its history, server-sent updates and the handover relay. Routes are declared in {@link #routes}.
 * The admin token passes through {@code /api/handover} to the leader and is never kept or logged.
 */
public final class DashboardServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(DashboardServer.class);
    private static final String JSON_TYPE = "application/json";

    private final ClusterWatch watch;
    private final boolean readOnly;
    private final Javalin app;
    private final HttpClient http;
    private final String scheme;
    private final Set<SseClient> subscribers = ConcurrentHashMap.newKeySet();
    // a slow page must not hold up the poll thread
    private final ExecutorService pushes = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "dashboard-sse");
        t.setDaemon(true);
        return t;
    });

    private DashboardServer(ClusterWatch watch, boolean readOnly, HttpClient agents, SSLContext tls, String host, int port) {
        this.watch = watch;
        this.readOnly = readOnly;
        this.http = agents;
        this.scheme = tls == null ? "http" : "https";
        // Javalin's start-up lines (its own "listening on", and the version's age in days, which
        // reads as a warning to anyone running a release): this server logs where it listens itself.
        JavalinLogger.startupInfo = false;
        this.app = Javalin.create(config -> {
            config.showJavalinBanner = false;
            config.useVirtualThreads = false;
            config.staticFiles.add(files -> {
                files.hostedPath = "/";
                files.directory = "/public";
                files.location = Location.CLASSPATH;
                files.headers = Map.of("Cache-Control", "no-cache");
            });
            if (tls != null) {
                config.jetty.addConnector((server, httpConfig) -> httpsConnector(server, httpConfig, tls, host, port));
            }
        });
    }

    public static DashboardServer start(String host, int port, ClusterWatch watch, boolean readOnly) {
        return start(host, port, watch, readOnly, HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build(), null);
    }

    /**
     * @param agents the client for the handover relay (trusting the agents' CA)
     * @param tls    HTTPS for the page and its API ({@code --tls-cert}, {@code --tls-key}); null: plain HTTP
     */
    static DashboardServer start(String host, int port, ClusterWatch watch, boolean readOnly, HttpClient agents, SSLContext tls) {
        DashboardServer server = new DashboardServer(watch, readOnly, agents, tls, host, port);
        server.routes();
        watch.onSnapshot(json -> server.pushes.execute(() -> server.push(json)));
        if (tls == null) {
            server.app.start(host, port);
        } else {
            server.app.start();   // the HTTPS connector alone: Javalin adds its plain one only when none is configured
        }
        log.info("dashboard listening on {}://{}:{}{}", server.scheme, host, server.app.port(), readOnly ? " (read-only)" : "");
        return server;
    }

    /** The same Jetty 11 connector as the agent's (agent/http/HttpsConnector): TLS from PEM files, no SNI host check. */
    private static ServerConnector httpsConnector(Server server, HttpConfiguration http, SSLContext tls, String host, int port) {
        SecureRequestCustomizer secure = new SecureRequestCustomizer();
        secure.setSniHostCheck(false);
        http.addCustomizer(secure);
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        ssl.setSslContext(tls);
        ServerConnector connector = new ServerConnector(server, new SslConnectionFactory(ssl, "http/1.1"), new HttpConnectionFactory(http));
        connector.setHost(host);
        connector.setPort(port);
        return connector;
    }

    private void routes() {
        app.before(ctx -> {
            // the page loads nothing from elsewhere and may not be framed (the handover button)
            ctx.header("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
            ctx.header("X-Content-Type-Options", "nosniff");
            ctx.header("Referrer-Policy", "no-referrer");
        });
        app.get("/api/cluster", ctx -> json(ctx, HttpStatus.OK, watch.snapshot()));
        app.get("/api/history", this::history);
        app.get("/api/config", ctx -> json(ctx, HttpStatus.OK, "{\"readOnly\":" + readOnly + "}"));
        app.sse("/api/events", this::subscribe);
        app.post("/api/handover", this::handover);
        app.exception(Exception.class, (e, ctx) -> {
            log.warn("HTTP {} {} failed: {}", ctx.method(), ctx.path(), e.toString());
            error(ctx, HttpStatus.INTERNAL_SERVER_ERROR, "internal error; see the dashboard's log");
        });
    }

    public int port() {
        return app.port();
    }

    private void history(Context ctx) {
        long since = 0;
        String param = ctx.queryParam("since");
        if (param != null) {
            try {
                since = Long.parseLong(param);
            } catch (NumberFormatException e) {
                error(ctx, HttpStatus.BAD_REQUEST, "since: expected milliseconds since the epoch, got '" + param + "'");
                return;
            }
        }
        json(ctx, HttpStatus.OK, watch.history(since));
    }

    private void subscribe(SseClient client) {
        client.keepAlive();
        client.onClose(() -> subscribers.remove(client));
        subscribers.add(client);
        client.sendEvent("cluster", watch.snapshot());
    }

    private void push(String json) {
        for (SseClient c : subscribers) {
            if (c.terminated()) {
                subscribers.remove(c);
            } else {
                c.sendEvent("cluster", json);
            }
        }
    }

    /** Relays {@code {"to":…}} and the caller's Authorization header to the leader; its answer comes back as is. */
    private void handover(Context ctx) throws InterruptedException {
        String crossSite = crossSite(ctx);
        if (crossSite != null) {
            error(ctx, HttpStatus.FORBIDDEN, crossSite);
            return;
        }
        if (readOnly) {
            error(ctx, HttpStatus.FORBIDDEN, "this dashboard is read-only: handover is disabled (started with --read-only)");
            return;
        }
        Optional<String> leader = watch.leaderUrl();
        if (leader.isEmpty()) {
            error(ctx, HttpStatus.SERVICE_UNAVAILABLE, "no leader right now; try again when one is elected");
            return;
        }
        String unsafe = plainHttpElsewhere(leader.get());
        if (unsafe != null) {
            error(ctx, HttpStatus.FORBIDDEN, "not relayed: the leader's address " + unsafe + " is plain HTTP off this machine,"
                    + " where the admin token could be read on the way; give the agents agent.tls and the dashboard --agent-ca");
            return;
        }
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(leader.get() + "/admin/handover"))
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", JSON_TYPE)
                .POST(HttpRequest.BodyPublishers.ofString(ctx.body()));
        String authorization = ctx.header("Authorization");
        if (authorization != null) {
            req.header("Authorization", authorization);
        }
        HttpResponse<String> answer;
        try {
            answer = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
        } catch (java.io.IOException e) {
            log.warn("handover: leader at {} did not answer: {}", leader.get(), e.toString());
            error(ctx, HttpStatus.BAD_GATEWAY, "the leader at " + leader.get() + " did not answer: " + e.getMessage());
            return;
        }
        log.info("handover request relayed to the leader at {}: HTTP {}", leader.get(), answer.statusCode());
        answer.headers().firstValue("WWW-Authenticate").ifPresent(v -> ctx.header("WWW-Authenticate", v));
        ctx.status(answer.statusCode()).contentType(JSON_TYPE).result(answer.body());
    }

    /**
     * {@code url} when it is plain HTTP to another machine than this one — where the admin token must
     * not be sent — else null (HTTPS, or a loopback address).
     */
    static String plainHttpElsewhere(String url) {
        URI u = URI.create(url);
        if (!"http".equalsIgnoreCase(u.getScheme())) {
            return null;
        }
        String host = u.getHost() == null ? "" : u.getHost();
        boolean loopback = host.equals("localhost") || host.startsWith("127.") || host.equals("[::1]") || host.equals("::1");
        return loopback ? null : url;
    }

    /**
     * Why a POST comes from another site's page, or null: its {@code Origin} (which browsers send
     * with every cross-origin POST, and Chrome and Firefox with same-origin ones) names another
     * host than the request's {@code Host}, or {@code Sec-Fetch-Site} says {@code cross-site}. A
     * request with neither (curl, scripts) passes: it carries its own token, no browser's cookies.
     */
    static String crossSite(Context ctx) {
        String fetchSite = ctx.header("Sec-Fetch-Site");
        if ("cross-site".equalsIgnoreCase(fetchSite)) {
            return "cross-site request refused (Sec-Fetch-Site: cross-site)";
        }
        String origin = ctx.header("Origin");
        if (origin == null) {
            return null;
        }
        String authority;
        try {
            authority = URI.create(origin).getRawAuthority();
        } catch (IllegalArgumentException e) {
            authority = null;
        }
        String host = ctx.header("Host");
        if (authority == null || host == null || !authority.equalsIgnoreCase(host)) {
            return "cross-site request refused: Origin " + origin + " is not this dashboard";
        }
        return null;
    }

    private static void json(Context ctx, HttpStatus status, String body) {
        ctx.status(status).contentType(JSON_TYPE).header("Cache-Control", "no-store").result(body);
    }

    private static void error(Context ctx, HttpStatus status, String message) {
        ctx.status(status).json(Map.of("error", message));
    }

    @Override
    public void close() {
        pushes.shutdownNow();
        app.stop();
    }
}

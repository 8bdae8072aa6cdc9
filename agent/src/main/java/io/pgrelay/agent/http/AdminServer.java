package io.pgrelay.agent.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.Javalin;
import io.javalin.http.BadRequestResponse;
import io.javalin.http.ConflictResponse;
import io.javalin.http.Context;
import io.javalin.http.ForbiddenResponse;
import io.javalin.http.Handler;
import io.javalin.http.HttpResponseException;
import io.javalin.http.HttpStatus;
import io.javalin.http.UnauthorizedResponse;
import io.javalin.util.JavalinLogger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;

/**
 * The agent's HTTP API (DESIGN.md "Agent HTTP"): health, readiness, status, stats, metrics and the
 * authenticated admin routes. Routes are declared in {@link #start}; handlers are small methods
 * that throw Javalin's typed HTTP errors ({@link BadRequestResponse}, {@link ConflictResponse}, …),
 * which {@link #routes} maps to {@code {"error": "..."}} in one place. No body carries a stack trace.
 */
public final class AdminServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Where admin calls are audited, apart from the agent's own lines so that it can be routed to its own file. */
    private static final Logger audit = LoggerFactory.getLogger("io.pgrelay.audit");
    /** The request attribute an admin handler sets to what it acts on, for the audit line. */
    private static final String TARGET = "pgrelay.audit.target";

    /** What the server asks of the agent. */
    public interface AgentView {
        AgentStatus status();

        boolean ready();

        Object stats();

        String metrics();

        /**
         * Hands leadership over. Throws {@link IllegalStateException} when this agent does not lead,
         * {@link IllegalArgumentException} for an unknown or unreachable target.
         */
        void handover(Optional<String> to) throws Exception;

        /**
         * Sets a logger's level at run time; returns the logger's name. Throws
         * {@link IllegalArgumentException} for an unknown level.
         */
        String setLogLevel(String logger, String level);

        /**
         * Requests a snapshot of the tables (SQL names). Throws {@link IllegalStateException} when
         * this agent does not lead, {@link IllegalArgumentException} naming each table that does
         * not exist or is not published. Returns the tables as {@code schema.table}.
         */
        java.util.List<String> snapshot(java.util.List<String> tables) throws Exception;

        /** Counts one call of an admin route by its HTTP status ({@code pgrelay_admin_requests_total}). */
        void adminRequest(String action, int status);
    }

    private final Javalin app;
    private final AgentView agent;
    private final BearerTokens tokens;
    /** Whether /status, /stats and /metrics need a read or admin token ({@code agent.protectReads}). */
    private final boolean protectReads;
    private final String scheme;
    private final AuthFailures failures = new AuthFailures(System::nanoTime);
    /** Declared routes: path → methods, so a known path with another method answers 405, not 404. */
    private final Map<String, Set<String>> methodsByPath = new LinkedHashMap<>();

    private AdminServer(AgentView agent, String host, int port, HttpAccess access) {
        this.agent = agent;
        this.tokens = access.tokens();
        this.protectReads = access.protectReads();
        this.scheme = access.tls() == null ? "http" : "https";
        // Javalin's start-up lines (its own "listening on", and the version's age in days, which
        // reads as a warning to anyone running a release): this server logs where it listens itself.
        JavalinLogger.startupInfo = false;
        this.app = Javalin.create(config -> {
            config.showJavalinBanner = false;
            config.useVirtualThreads = false;
            if (access.tls() != null) {
                config.jetty.addConnector((server, http) -> HttpsConnector.create(server, http, access.tls(), host, port));
            }
        });
    }

    /**
     * What the listener asks of callers.
     *
     * @param tls          HTTPS with this context; null: plain HTTP (loopback, development)
     * @param tokens       the admin and read tokens
     * @param protectReads whether the read routes need a token
     */
    public record HttpAccess(javax.net.ssl.SSLContext tls, BearerTokens tokens, boolean protectReads) {
    }

    public static AdminServer start(String host, int port, HttpAccess access, AgentView agent) {
        AdminServer server = new AdminServer(agent, host, port, access);
        server.routes();
        if (access.tls() == null) {
            server.app.start(host, port);
        } else {
            server.app.start();   // on the HTTPS connector alone: Javalin adds its plain one only when none is configured
        }
        log.info("admin {} listening on {}://{}:{} (admin routes {}, read routes {})", server.scheme.toUpperCase(java.util.Locale.ROOT),
                server.scheme, host, server.app.port(), access.tokens().adminEnabled() ? "need an admin token" : "disabled",
                access.protectReads() ? "need a token" : "open");
        return server;
    }

    private void routes() {
        get("/health", ctx -> ctx.json(Map.of("status", "up")));
        get("/ready", this::ready);
        get("/status", ctx -> {
            authorizeRead(ctx);
            ctx.json(agent.status());
        });
        get("/stats", ctx -> {
            authorizeRead(ctx);
            ctx.json(agent.stats());
        });
        get("/metrics", ctx -> {
            authorizeRead(ctx);
            ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(agent.metrics());
        });
        post("/admin/handover", audited("handover", this::handover));
        post("/admin/log-level", audited("log-level", this::logLevel));
        post("/admin/snapshot", audited("snapshot", this::snapshot));
        app.exception(HttpResponseException.class, (e, ctx) -> error(ctx, HttpStatus.forStatus(e.getStatus()), e.getMessage()));
        app.exception(Exception.class, (e, ctx) -> {
            // the class name only: a message may quote configuration, and a stack trace helps no client
            log.warn("HTTP {} {} failed: {}", ctx.method(), ctx.path(), e.getClass().getName());
            log.debug("HTTP {} {} failure detail", ctx.method(), ctx.path(), e);
            error(ctx, HttpStatus.INTERNAL_SERVER_ERROR, "internal error; see the agent's log");
        });
        app.error(HttpStatus.NOT_FOUND, this::notFoundOrWrongMethod);
        app.error(HttpStatus.METHOD_NOT_ALLOWED, this::notFoundOrWrongMethod);
    }

    /**
     * One audit line per admin call — action, target, caller's address, HTTP status — on the logger
     * {@code io.pgrelay.audit}, and one count in {@code pgrelay_admin_requests_total}. Refused calls
     * (401, 403, 429) are audited too. The target is what the handler recorded in {@link #TARGET};
     * never a token.
     */
    private Handler audited(String action, Handler handler) {
        return ctx -> {
            int status = 500;
            try {
                handler.handle(ctx);
                status = ctx.statusCode();
            } catch (HttpResponseException e) {
                status = e.getStatus();
                throw e;
            } finally {
                Object target = ctx.attribute(TARGET);
                audit.info("admin {} target={} caller={} status={}", action, target == null ? "-" : target, ctx.ip(), status);
                agent.adminRequest(action, status);
            }
        };
    }

    private void get(String path, Handler handler) {
        methodsByPath.computeIfAbsent(path, p -> new TreeSet<>()).add("GET");
        app.get(path, handler);
    }

    private void post(String path, Handler handler) {
        methodsByPath.computeIfAbsent(path, p -> new TreeSet<>()).add("POST");
        app.post(path, handler);
    }

    /**
     * Javalin answers an unknown method on a known path with 404; the HTTP answer is 405 with Allow.
     * Runs after the typed-error mapping above has written Javalin's own 404 (no handler answers 404).
     */
    private void notFoundOrWrongMethod(Context ctx) {
        Set<String> allowed = methodsByPath.get(ctx.path());
        if (allowed != null && !allowed.contains(ctx.method().name())) {
            ctx.header("Allow", String.join(", ", allowed));
            error(ctx, HttpStatus.METHOD_NOT_ALLOWED, ctx.method().name() + " is not allowed on " + ctx.path()
                    + "; use " + String.join(" or ", allowed));
        } else {
            error(ctx, HttpStatus.NOT_FOUND, "no route " + ctx.method() + " " + ctx.path());
        }
    }

    public int port() {
        return app.port();
    }

    private void ready(Context ctx) {
        boolean ready = agent.ready();
        ctx.status(ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE).json(Map.of("ready", ready));
    }

    private void handover(Context ctx) throws Exception {
        authorize(ctx);
        Optional<String> to = badRequestIfIllegal(() -> parseTarget(ctx.body()));
        ctx.attribute(TARGET, to.orElse("any"));
        asLeader(() -> {
            agent.handover(to);
            return null;
        });
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("accepted", true);
        body.put("to", to.orElse(null));
        ctx.status(HttpStatus.ACCEPTED).json(body);
    }

    /** {@code {"level":"debug"}} (the root logger) or {@code {"logger":"io.pgrelay","level":"info"}}. */
    private void logLevel(Context ctx) throws Exception {
        authorize(ctx);
        JsonNode node;
        try {
            node = JSON.readTree(ctx.body());
        } catch (Exception e) {
            throw new BadRequestResponse("body is not JSON; expected {\"level\":\"debug\"} or {\"logger\":\"io.pgrelay\",\"level\":\"info\"}");
        }
        if (node == null || !node.isObject() || !node.path("level").isTextual()) {
            throw new BadRequestResponse("body must be a JSON object with a \"level\" string, like {\"level\":\"debug\"}");
        }
        JsonNode loggerNode = node.path("logger");
        if (!loggerNode.isMissingNode() && !loggerNode.isNull() && (!loggerNode.isTextual() || loggerNode.asText().isBlank())) {
            throw new BadRequestResponse("\"logger\" must be a logger name such as io.pgrelay");
        }
        String logger = loggerNode.isTextual() ? loggerNode.asText() : org.slf4j.Logger.ROOT_LOGGER_NAME;
        String level = node.get("level").asText();
        ctx.attribute(TARGET, logger + "=" + level);
        String name = badRequestIfIllegal(() -> agent.setLogLevel(logger, level));
        log.info("log level of {} set to {} over HTTP", name, level.toUpperCase(java.util.Locale.ROOT));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("logger", name);
        body.put("level", level.toUpperCase(java.util.Locale.ROOT));
        ctx.json(body);
    }

    /** {@code {"tables":["public.orders"]}}: 202 once the request is durable in the WAL. */
    private void snapshot(Context ctx) throws Exception {
        authorize(ctx);
        java.util.List<String> tables = badRequestIfIllegal(() -> parseTables(ctx.body()));
        ctx.attribute(TARGET, String.join(",", tables));
        java.util.List<String> accepted = asLeader(() -> agent.snapshot(tables));
        log.info("snapshot of {} requested over HTTP", accepted);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("accepted", true);
        body.put("tables", accepted);
        ctx.status(HttpStatus.ACCEPTED).json(body);
    }

    /** {@code {"tables":["public.orders", …]}}: a non-empty list of table names. */
    static java.util.List<String> parseTables(String body) {
        String usage = "expected {\"tables\":[\"public.orders\"]}";
        JsonNode node;
        try {
            node = JSON.readTree(body == null ? "" : body);
        } catch (Exception e) {
            throw new IllegalArgumentException("body is not JSON; " + usage);
        }
        if (node == null || !node.isObject() || !node.path("tables").isArray() || node.get("tables").isEmpty()) {
            throw new IllegalArgumentException("body must name at least one table; " + usage);
        }
        java.util.List<String> tables = new java.util.ArrayList<>();
        for (JsonNode t : node.get("tables")) {
            if (!t.isTextual() || t.asText().isBlank()) {
                throw new IllegalArgumentException("\"tables\" must hold table names (non-empty strings); got " + t);
            }
            tables.add(t.asText());
        }
        java.util.Iterator<String> keys = node.fieldNames();
        while (keys.hasNext()) {
            String key = keys.next();
            if (!key.equals("tables")) {
                throw new IllegalArgumentException("unknown key \"" + key + "\"; " + usage);
            }
        }
        return tables;
    }

    /** {@code {"to":"agent-2"}}, {@code {}} or an empty body. */
    static Optional<String> parseTarget(String body) {
        if (body == null || body.isBlank()) {
            return Optional.empty();
        }
        JsonNode node;
        try {
            node = JSON.readTree(body);
        } catch (Exception e) {
            throw new IllegalArgumentException("body is not JSON; expected {\"to\":\"<agent id>\"} or nothing");
        }
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("body must be a JSON object like {\"to\":\"agent-2\"}");
        }
        JsonNode to = node.get("to");
        if (to == null || to.isNull()) {
            return Optional.empty();
        }
        if (!to.isTextual() || to.asText().isBlank()) {
            throw new IllegalArgumentException("\"to\" must be an agent id (a non-empty string)");
        }
        return Optional.of(to.asText());
    }

    /**
     * An admin route: 403 when no admin token is configured or the token may only read, 401 without
     * a known token. Tokens are compared in constant time ({@link BearerTokens}).
     */
    private void authorize(Context ctx) {
        if (!tokens.adminEnabled()) {
            throw new ForbiddenResponse("admin routes are disabled: set agent.tokens.admin (or agent.adminToken)");
        }
        BearerTokens.Scope scope = scope(ctx);
        if (scope == BearerTokens.Scope.READ) {
            throw new ForbiddenResponse("this token may only read; " + ctx.path() + " needs an admin token");
        }
        if (scope != BearerTokens.Scope.ADMIN) {
            unauthorized(ctx);
        }
    }

    /** A read route under {@code agent.protectReads}: a read or an admin token, else 401. */
    private void authorizeRead(Context ctx) {
        if (protectReads && scope(ctx) == BearerTokens.Scope.NONE) {
            unauthorized(ctx);
        }
    }

    /** The request's token scope; 429 first when its address failed too often ({@link AuthFailures}). */
    private BearerTokens.Scope scope(Context ctx) {
        long wait = failures.blockedForSeconds(ctx.ip());
        if (wait > 0) {
            ctx.header("Retry-After", Long.toString(wait));
            throw new HttpResponseException(HttpStatus.TOO_MANY_REQUESTS.getCode(), "too many failed authentications from "
                    + ctx.ip() + "; retry in " + wait + " s");
        }
        return tokens.scopeOf(ctx.header("Authorization"));
    }

    private void unauthorized(Context ctx) {
        failures.failed(ctx.ip());
        ctx.header("WWW-Authenticate", "Bearer");
        throw new UnauthorizedResponse(ctx.header("Authorization") == null ? "missing bearer token" : "bad bearer token");
    }

    /** What a bad request body or value throws ({@link IllegalArgumentException}) is a 400. */
    private static <T> T badRequestIfIllegal(Callable<T> call) throws Exception {
        try {
            return call.call();
        } catch (IllegalArgumentException e) {
            throw new BadRequestResponse(e.getMessage());
        }
    }

    /**
     * An admin action only the leader takes ({@link AgentView}'s contract): not the leader
     * ({@link IllegalStateException}) is a 409, a bad or unknown target ({@link IllegalArgumentException}) a 400.
     */
    private static <T> T asLeader(Callable<T> action) throws Exception {
        try {
            return badRequestIfIllegal(action);
        } catch (IllegalStateException e) {
            throw new ConflictResponse(e.getMessage());
        }
    }

    private static void error(Context ctx, HttpStatus status, String message) {
        ctx.status(status).json(Map.of("error", message));
    }

    @Override
    public void close() {
        app.stop();
    }
}

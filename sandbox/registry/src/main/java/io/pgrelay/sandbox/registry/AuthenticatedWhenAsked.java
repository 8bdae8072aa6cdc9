package io.pgrelay.sandbox.registry;

import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.vertx.http.runtime.security.HttpSecurityPolicy;
import io.smallrye.mutiny.Uni;
import io.vertx.ext.web.RoutingContext;
import javax.inject.Singleton;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * On a registry started with {@code pgrelay.registry.basic-auth=true}, every request must carry a
 * known user's credentials: an anonymous one is denied, which Quarkus answers with 401 and a basic
 * challenge ({@link BasicAuthWhenAsked}), and a wrong password fails authentication, also 401.
 * Users named in {@code pgrelay.registry.read-only-users} (comma-separated) may read but not write:
 * their POST, PUT and DELETE requests are denied, which Quarkus answers with 403 for an
 * authenticated user. Otherwise every request is permitted, as stock Apicurio permits them with its
 * authentication off.
 * A bean rather than {@code quarkus.http.auth.permission.*}, which Quarkus 2.16 fixes at build time.
 */
@Singleton
public final class AuthenticatedWhenAsked implements HttpSecurityPolicy {

    private final boolean asked;
    private final java.util.Set<String> readOnly;

    AuthenticatedWhenAsked(@ConfigProperty(name = "pgrelay.registry.basic-auth", defaultValue = "false") boolean asked,
                           @ConfigProperty(name = "pgrelay.registry.read-only-users", defaultValue = " ") String readOnly) {
        this.asked = asked;
        this.readOnly = java.util.Set.of(readOnly.strip().isEmpty() ? new String[0] : readOnly.strip().split("\\s*,\\s*"));
    }

    @Override
    public Uni<CheckResult> checkPermission(RoutingContext request, Uni<SecurityIdentity> identity,
                                            AuthorizationRequestContext context) {
        if (!asked) {
            return Uni.createFrom().item(CheckResult.PERMIT);
        }
        boolean writes = switch (request.request().method().name()) {
            case "GET", "HEAD", "OPTIONS" -> false;
            default -> true;
        };
        return identity.map(user -> user.isAnonymous()
                || (writes && readOnly.contains(user.getPrincipal().getName())) ? CheckResult.DENY : CheckResult.PERMIT);
    }
}

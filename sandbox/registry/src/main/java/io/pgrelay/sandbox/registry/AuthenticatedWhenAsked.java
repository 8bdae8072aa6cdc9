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
 * Otherwise every request is permitted, as stock Apicurio permits them with its authentication off.
 * A bean rather than {@code quarkus.http.auth.permission.*}, which Quarkus 2.16 fixes at build time.
 */
@Singleton
public final class AuthenticatedWhenAsked implements HttpSecurityPolicy {

    private final boolean asked;

    AuthenticatedWhenAsked(@ConfigProperty(name = "pgrelay.registry.basic-auth", defaultValue = "false") boolean asked) {
        this.asked = asked;
    }

    @Override
    public Uni<CheckResult> checkPermission(RoutingContext request, Uni<SecurityIdentity> identity,
                                            AuthorizationRequestContext context) {
        if (!asked) {
            return Uni.createFrom().item(CheckResult.PERMIT);
        }
        return identity.map(user -> user.isAnonymous() ? CheckResult.DENY : CheckResult.PERMIT);
    }
}

package io.pgrelay.sandbox.registry;

import io.quarkus.security.identity.IdentityProviderManager;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.request.AuthenticationRequest;
import io.quarkus.vertx.http.runtime.security.BasicAuthenticationMechanism;
import io.quarkus.vertx.http.runtime.security.ChallengeData;
import io.quarkus.vertx.http.runtime.security.HttpAuthenticationMechanism;
import io.quarkus.vertx.http.runtime.security.HttpCredentialTransport;
import io.smallrye.mutiny.Uni;
import io.vertx.ext.web.RoutingContext;
import java.util.Set;
import javax.annotation.Priority;
import javax.enterprise.inject.Alternative;
import javax.inject.Singleton;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Quarkus' own HTTP basic auth, checked against the users of
 * {@code quarkus.security.users.embedded.users.*}, on a registry started with
 * {@code pgrelay.registry.basic-auth=true}; a registry started without it ignores an
 * {@code Authorization} header as stock Apicurio does. Quarkus fixes {@code quarkus.http.auth.basic}
 * when it builds the jar, so this module turns Quarkus' mechanism off there and installs it here,
 * behind the switch read at start: one jar serves both kinds of registry.
 *
 * <p>An alternative of a higher priority than Apicurio's own mechanism (an alternative of priority
 * 1, which without that would stand alone: CDI drops the plain beans when alternatives match): that
 * one only speaks OIDC, off here, and has no challenge to send while it is off.
 */
@Alternative
@Priority(2)
@Singleton
public final class BasicAuthWhenAsked implements HttpAuthenticationMechanism {

    private final BasicAuthenticationMechanism basic = new BasicAuthenticationMechanism("pgrelay-sandbox", false);
    private final boolean asked;

    BasicAuthWhenAsked(@ConfigProperty(name = "pgrelay.registry.basic-auth", defaultValue = "false") boolean asked) {
        this.asked = asked;
    }

    @Override
    public Uni<SecurityIdentity> authenticate(RoutingContext context, IdentityProviderManager identityProviderManager) {
        return asked ? basic.authenticate(context, identityProviderManager) : Uni.createFrom().nullItem();
    }

    @Override
    public Uni<ChallengeData> getChallenge(RoutingContext context) {
        return basic.getChallenge(context);
    }

    @Override
    public Set<Class<? extends AuthenticationRequest>> getCredentialTypes() {
        return basic.getCredentialTypes();
    }

    @Override
    public Uni<HttpCredentialTransport> getCredentialTransport(RoutingContext context) {
        return basic.getCredentialTransport(context);
    }

    @Override
    public int getPriority() {
        return basic.getPriority();
    }
}

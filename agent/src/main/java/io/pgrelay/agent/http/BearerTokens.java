package io.pgrelay.agent.http;

import io.pgrelay.agent.config.Secret;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

/**
 * The tokens the HTTP API accepts and what each may do. Several of each scope are accepted at once,
 * so a token is rotated by adding the new one, moving the callers, then removing the old one.
 *
 * <p>A presented token is compared with every configured token, each comparison over SHA-256
 * digests with {@link MessageDigest#isEqual} and no early exit: the time taken says neither which
 * token nearly matched nor how long any token is.
 */
public final class BearerTokens {

    /** What a request's token allows. */
    public enum Scope { NONE, READ, ADMIN }

    public static final BearerTokens NONE = new BearerTokens(List.of(), List.of());

    private final List<byte[]> admin;
    private final List<byte[]> read;

    public BearerTokens(List<Secret> admin, List<Secret> read) {
        this.admin = admin.stream().map(s -> digest(s.reveal())).toList();
        this.read = read.stream().map(s -> digest(s.reveal())).toList();
    }

    public boolean adminEnabled() {
        return !admin.isEmpty();
    }

    /** The scope of an {@code Authorization} header's bearer token; {@link Scope#NONE} when absent or unknown. */
    public Scope scopeOf(String authorizationHeader) {
        String token = authorizationHeader != null && authorizationHeader.regionMatches(true, 0, "Bearer ", 0, 7)
                ? authorizationHeader.substring(7).strip() : "";
        if (token.isEmpty()) {
            return Scope.NONE;
        }
        byte[] given = digest(token);
        boolean isAdmin = matchesAny(given, admin);
        boolean isRead = matchesAny(given, read);
        return isAdmin ? Scope.ADMIN : isRead ? Scope.READ : Scope.NONE;
    }

    private static boolean matchesAny(byte[] given, List<byte[]> tokens) {
        boolean found = false;
        for (byte[] t : tokens) {
            found |= MessageDigest.isEqual(given, t);
        }
        return found;
    }

    private static byte[] digest(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    @Override
    public String toString() {
        return "BearerTokens[admin=" + admin.size() + ", read=" + read.size() + "]";
    }
}

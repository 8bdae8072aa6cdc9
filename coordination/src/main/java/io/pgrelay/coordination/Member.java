package io.pgrelay.coordination;

import java.time.Instant;
import java.util.Objects;

/**
 * One agent as published in the member registry.
 *
 * @param id        the agent's id, unique in the cluster
 * @param http      its admin HTTP address ({@code host:port})
 * @param role      what it is doing
 * @param epoch     the epoch it leads under, or the last epoch it knew of as a standby
 * @param updatedAt when the entry was last written (slot mode: heartbeat; ZooKeeper: last change)
 */
public record Member(String id, String http, Role role, long epoch, Instant updatedAt) {
    public Member {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(updatedAt, "updatedAt");
    }
}

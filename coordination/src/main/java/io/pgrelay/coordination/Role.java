package io.pgrelay.coordination;

import java.util.Locale;

/** What a member of the cluster is doing, as published in the member registry. */
public enum Role {
    STARTING, STANDBY, LEADER, STOPPING;

    /** The lower-case name used in JSON and in the {@code pgrelay.members} table. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Role fromWireName(String name) {
        return valueOf(name.toUpperCase(Locale.ROOT));
    }
}

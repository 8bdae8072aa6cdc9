package io.pgrelay.agent;

/** Placeholder: the running agent (election, pipeline, admin server) is wired here. */
public final class Agent {
    private Agent() {
    }
}

/**
 * Agents and the dashboard as child processes: their jar, configuration, HTTP API, a cluster of several, and
 * {@link io.pgrelay.sandbox.cluster.AgentNetwork}, each agent's own proxied path to PostgreSQL, ZooKeeper and Kafka.
 */
package io.pgrelay.sandbox.cluster;
